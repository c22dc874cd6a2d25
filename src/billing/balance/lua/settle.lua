-- Settle a call exactly once: release its reservation, debit the cost (never below the credit
-- floor: a cost beyond what the account can cover is recorded as unrecovered, not debited), count
-- the daily spend, and append the CDR and ledger event to the stream in the same atomic step.
-- A call that never reserved (failed, unanswered) settles too, with its CDR.
-- New values are computed here and written with one HSET (the script is atomic, so no HINCRBY
-- is needed), keeping the number of redis.call()s per settle small.
-- A settle by the sweeper is provisional: it presumed the owning process dead. If the owner
-- settles afterwards (it was alive after all), its facts win, once: the difference between its cost
-- and what the sweeper debited is debited (or given back) under the same floor rule, and a
-- correction event (id resettle:<member>) carries the owner's CDR, which replaces the sweeper's.
-- KEYS: 1 account hash, 2 call hash, 3 open-calls zset, 4 event stream
-- ARGV: 1 open-call member (account:call id), 2 account id, 3 cost, 4 now ms, 5 CDR json,
--       6 settled-call ttl seconds, 7 call id, 8 who settles ('owner' or 'sweeper')
local member, cost, now, by = ARGV[1], tonumber(ARGV[3]), ARGV[4], ARGV[8]
local c = redis.call('HMGET', KEYS[2], 'state', 'rsv', 'debit', 'unrec', 'balafter', 'by')
local st = c[1]
if st == 'settled' then
  if c[6] ~= 'sweeper' or by ~= 'owner' then return { 'duplicate', c[3], c[4], c[5] } end
  local a = acct_get(KEYS[1])
  if not a then return { 'unknown_account' } end
  local day = acct_day(a, now)
  if not day then return { 'zone_stale', a.tz } end
  local before = int(c[3])
  local room = a.bal - a.floor - a.rsv
  if room < 0 then room = 0 end
  local total = cost
  if total > before + room then total = before + room end
  local delta = total - before
  local unrec = cost - total
  local bal = a.bal - delta
  local spent = a.dayspent
  if a.day == day then spent = spent + delta elseif delta > 0 then spent = delta else spent = 0 end
  if spent < 0 then spent = 0 end
  redis.call('HSET', KEYS[1], 'bal', s(bal), 'day', day, 'dayspent', s(spent))
  redis.call('HSET', KEYS[2], 'by', 'owner', 'debit', s(total), 'unrec', s(unrec), 'balafter', s(bal))
  redis.call('XADD', KEYS[4], '*', 'id', 'resettle:' .. member, 'type', 'call', 'acct', ARGV[2], 'amount', s(-delta),
    'bal', s(bal), 'ref', ARGV[7], 'ts', now, 'unrec', s(unrec), 'cdr', ARGV[5])
  return { 'corrected', s(total), s(unrec), s(bal) }
end
local a = acct_get(KEYS[1])
if not a then return { 'unknown_account' } end
local day = acct_day(a, now)
if not day then return { 'zone_stale', a.tz } end
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
-- the open call's facts (caller ID, source address, device, dialled number) and rate were kept for
-- the sweeper only: blanked here in the same HSET, so the settled hash holds no personal data
redis.call('HSET', KEYS[2], 'acct', ARGV[2], 'state', 'settled', 'debit', s(debit), 'unrec', s(unrec), 'balafter', s(bal), 'rsv', '0', 'by', by,
  'facts', '', 'rate', '')
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
if st == 'reserved' then redis.call('ZREM', KEYS[3], member) end
redis.call('XADD', KEYS[4], '*', 'id', 'call:' .. member, 'type', 'call', 'acct', ARGV[2], 'amount', s(-debit),
  'bal', s(bal), 'ref', ARGV[7], 'ts', now, 'unrec', s(unrec), 'cdr', ARGV[5])
return { 'ok', s(debit), s(unrec), s(bal) }
