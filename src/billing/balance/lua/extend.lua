-- Extend an open call's reservation by the next slice (or what is left, if at least the minimum).
-- KEYS: 1 account hash, 2 call hash, 3 open-calls zset
-- ARGV: 1 open-call member (account:call id), 2 min amount, 3 wanted amount, 4 new deadline ms, 5 now ms (the call was alive)
local member, minAmt, want, deadline, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local st = redis.call('HGET', KEYS[2], 'state')
if not st then return { 'unknown_call' } end
if st ~= 'reserved' then return { 'call_ended', st } end
local a = acct_get(KEYS[1])
if not a then return { 'unknown_account' } end
if a.status ~= 'active' then return { 'account_' .. a.status, redis.call('HGET', KEYS[2], 'rsv') } end
local day = acct_day(a, now)
if not day then return { 'zone_stale', a.tz } end
local avail, why = spendable(a, day)
if avail < minAmt or avail <= 0 then return { why, redis.call('HGET', KEYS[2], 'rsv'), s(math.max(avail, 0)) } end
local amt = want
if avail < amt then amt = avail end
redis.call('HINCRBY', KEYS[1], 'rsv', s(amt))
local total = redis.call('HINCRBY', KEYS[2], 'rsv', s(amt))
redis.call('HSET', KEYS[2], 'deadline', deadline, 'seen', now)
redis.call('ZADD', KEYS[3], deadline, member)
return { 'ok', s(amt), s(total) }
