-- Store an account's next UTC offset (after a script returned 'zone_stale'), if its time zone is
-- still the one the offset was computed for (a sync may have changed it meanwhile).
-- KEYS: 1 account hash   ARGV: 1 time zone, 2 offset ms, 3 until (epoch ms)
local v = redis.call('HMGET', KEYS[1], 'bal', 'tz')
if not v[1] or (v[2] or 'UTC') ~= ARGV[1] then return { 'changed' } end
redis.call('HSET', KEYS[1], 'off', ARGV[2], 'offuntil', ARGV[3])
return { 'ok' }
