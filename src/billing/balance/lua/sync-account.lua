-- Create or update an account's limits in Redis from the durable record. The balance is only
-- set when the account is new, or when forced by a rebuild (which also restores the open
-- reservations and today's spend it was given): live money is never overwritten otherwise.
-- KEYS: 1 account hash
-- ARGV: 1 floor, 2 max calls, 3 cap (-1 none), 4 status, 5 balance, 6 force (1|0),
--       7 reserved, 8 open calls, 9 day, 10 spent that day, 11 time zone of the day (IANA),
--       12 the zone's UTC offset now (ms), 13 when that offset stops holding (epoch ms; see acct_day),
--       14 record the account's calls ('1' | '0'; empty: left as it is)
redis.call('HSET', KEYS[1], 'floor', ARGV[1], 'maxcalls', ARGV[2], 'cap', ARGV[3], 'status', ARGV[4], 'tz', ARGV[11],
  'off', ARGV[12], 'offuntil', ARGV[13])
if ARGV[14] == '1' or ARGV[14] == '0' then
  redis.call('HSET', KEYS[1], 'rec', ARGV[14])
end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'bal', ARGV[5], 'rsv', ARGV[7], 'calls', ARGV[8], 'day', ARGV[9], 'dayspent', ARGV[10])
  return { 'rebuilt' }
end
if redis.call('HSETNX', KEYS[1], 'bal', ARGV[5]) == 1 then
  redis.call('HSET', KEYS[1], 'rsv', '0', 'calls', '0')
  return { 'created' }
end
return { 'updated' }
