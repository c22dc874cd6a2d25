-- Settle a call exactly once: release its reservation, debit the cost (never below the credit
-- floor: a cost beyond what the account can cover is recorded as unrecovered, not debited), count
-- the daily spend, and append the CDR and ledger event to the stream in the same atomic step.
-- A call that never reserved (failed, unanswered) settles too, with its CDR.
-- New values are computed here and written with one HSET (the script is atomic, so no HINCRBY
-- is needed), keeping the number of redis.call()s per settle small.
-- KEYS: 1 account hash, 2 call hash, 3 open-calls zset, 4 event stream
-- ARGV: 1 open-call member (account:call id), 2 account id, 3 cost, 4 day, 5 now ms, 6 CDR json,
--       7 settled-call ttl seconds, 8 call id
local member, cost, day, now = ARGV[1], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local c = redis.call('HMGET', KEYS[2], 'state', 'rsv', 'debit', 'unrec', 'balafter')
local st = c[1]
if st == 'settled' then return { 'duplicate', c[3], c[4], c[5] } end
local a = acct_get(KEYS[1])
if not a then return { 'unknown_account' } end
local calls = a.calls
if st == 'reserved' then
  a.rsv = a.rsv - int(c[2])
  calls = calls - 1
end
local room = a.bal - a.floor - a.rsv
if room < 0 then room = 0 end
local debit = cost
if debit > room then debit = room end
local unrec = cost - debit
local bal = a.bal - debit
local spent = debit
if a.day == day then spent = a.dayspent + debit end
redis.call('HSET', KEYS[1], 'bal', s(bal), 'rsv', s(a.rsv), 'calls', s(calls), 'day', day, 'dayspent', s(spent))
redis.call('HSET', KEYS[2], 'acct', ARGV[2], 'state', 'settled', 'debit', s(debit), 'unrec', s(unrec), 'balafter', s(bal), 'rsv', '0')
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
if st == 'reserved' then redis.call('ZREM', KEYS[3], member) end
redis.call('XADD', KEYS[4], '*', 'id', 'call:' .. member, 'type', 'call', 'acct', ARGV[2], 'amount', s(-debit),
  'bal', s(bal), 'ref', ARGV[8], 'ts', now, 'unrec', s(unrec), 'cdr', ARGV[6])
return { 'ok', s(debit), s(unrec), s(bal) }
