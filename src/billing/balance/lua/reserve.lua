-- Authorise a call and reserve its first slice: atomic check of status, concurrent-call limit,
-- credit floor and daily cap, then the reservation. Idempotent on the call id.
-- KEYS: 1 account hash, 2 call hash, 3 open-calls zset
-- ARGV: 1 open-call member (account:call id), 2 account id, 3 min amount, 4 wanted amount, 5 now ms, 6 deadline ms
local member, minAmt, want, now, deadline = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
local st = redis.call('HGET', KEYS[2], 'state')
if st then
  if st == 'reserved' then return { 'duplicate', redis.call('HGET', KEYS[2], 'rsv') } end
  return { 'call_ended', st }
end
local a = acct_get(KEYS[1])
if not a then return { 'unknown_account' } end
if a.status ~= 'active' then return { 'account_' .. a.status } end
if a.calls >= a.maxcalls then return { 'too_many_calls', s(a.calls) } end
local day = acct_day(a, now)
if not day then return { 'zone_stale', a.tz } end
local avail, why = spendable(a, day)
if avail < minAmt then return { why, s(math.max(avail, 0)) } end
local amt = want
if avail < amt then amt = avail end
redis.call('HSET', KEYS[1], 'rsv', s(a.rsv + amt), 'calls', s(a.calls + 1))
redis.call('HSET', KEYS[2], 'acct', ARGV[2], 'rsv', s(amt), 'state', 'reserved', 'created', now, 'deadline', deadline)
redis.call('ZADD', KEYS[3], deadline, member)
return { 'ok', s(amt), s(avail) }
