-- Record that an open call was answered, with what the sweeper needs to settle it if the process
-- that runs it dies: the answer time, the rate, and the CDR facts. Only while the call is open.
-- KEYS: 1 call hash, 2 open-calls zset   ARGV: 1 answer time ms, 2 rate json, 3 CDR facts json, 4 member, 5 new deadline ms
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' then return { 'not_open' } end
redis.call('HSET', KEYS[1], 'answered', ARGV[1], 'seen', ARGV[1], 'rate', ARGV[2], 'facts', ARGV[3], 'deadline', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
return { 'ok' }
