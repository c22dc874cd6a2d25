-- A sign of life from the process running an open call that is not yet answered (it is ringing,
-- or the caller is in the IVR): moves the call's deadline forward, never back. Only while open.
-- KEYS: 1 call hash, 2 open-calls zset   ARGV: 1 member, 2 new deadline ms, 3 now ms
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' then return { 'not_open' } end
local deadline = tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'deadline') or '0')
if current ~= nil and current > deadline then deadline = current end
redis.call('HSET', KEYS[1], 'deadline', deadline, 'seen', ARGV[3])
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
return { 'ok' }
