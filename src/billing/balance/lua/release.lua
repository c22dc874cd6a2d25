-- Give back an open call's reservation without a charge or CDR (the call never started).
-- KEYS: 1 account hash, 2 call hash, 3 open-calls zset
-- ARGV: 1 open-call member (account:call id), 2 ttl seconds
local st = redis.call('HGET', KEYS[2], 'state')
if not st then return { 'unknown_call' } end
if st ~= 'reserved' then return { 'duplicate', st } end
local own = int(redis.call('HGET', KEYS[2], 'rsv'))
redis.call('HINCRBY', KEYS[1], 'rsv', s(-own))
redis.call('HINCRBY', KEYS[1], 'calls', -1)
redis.call('HSET', KEYS[2], 'state', 'released', 'rsv', '0')
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
redis.call('ZREM', KEYS[3], ARGV[1])
return { 'ok', s(own) }
