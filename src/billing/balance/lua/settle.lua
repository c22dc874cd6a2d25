-- Settle a call exactly once: release its reservation, debit the cost (never below the credit
-- floor: a cost beyond what the account can cover is recorded as unrecovered, not debited), count
-- the daily spend, and append the CDR and ledger event to the stream in the same atomic step.
-- A call that never reserved (failed, unanswered) settles too, with its CDR.
-- KEYS: 1 account hash, 2 call hash, 3 open-calls zset, 4 event stream
-- ARGV: 1 call id, 2 account id, 3 cost, 4 day, 5 now ms, 6 CDR json, 7 settled-call ttl seconds
local callId, cost, day, now = ARGV[1], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local st = redis.call('HGET', KEYS[2], 'state')
if st == 'settled' then
  local r = redis.call('HMGET', KEYS[2], 'debit', 'unrec', 'balafter')
  return { 'duplicate', r[1], r[2], r[3] }
end
local a = acct_get(KEYS[1])
if not a then return { 'unknown_account' } end
local own = 0
if st == 'reserved' then
  own = int(redis.call('HGET', KEYS[2], 'rsv'))
  redis.call('HINCRBY', KEYS[1], 'rsv', s(-own))
  redis.call('HINCRBY', KEYS[1], 'calls', -1)
  a.rsv = a.rsv - own
end
local room = a.bal - a.floor - a.rsv
if room < 0 then room = 0 end
local debit = cost
if debit > room then debit = room end
local unrec = cost - debit
local bal = redis.call('HINCRBY', KEYS[1], 'bal', s(-debit))
if a.day == day then
  redis.call('HINCRBY', KEYS[1], 'dayspent', s(debit))
else
  redis.call('HSET', KEYS[1], 'day', day, 'dayspent', s(debit))
end
redis.call('HSET', KEYS[2], 'acct', ARGV[2], 'state', 'settled', 'debit', s(debit), 'unrec', s(unrec), 'balafter', bal, 'rsv', '0')
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
redis.call('ZREM', KEYS[3], callId)
redis.call('XADD', KEYS[4], '*', 'id', 'call:' .. callId, 'type', 'call', 'acct', ARGV[2], 'amount', s(-debit),
  'bal', bal, 'ref', callId, 'ts', now, 'unrec', s(unrec), 'cdr', ARGV[6])
return { 'ok', s(debit), s(unrec), bal }
