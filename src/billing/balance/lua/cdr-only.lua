-- A CDR for a call tied to no account (unknown caller, rejected before authorisation), exactly
-- once per call id, appended to the stream.
-- KEYS: 1 marker, 2 event stream   ARGV: 1 call id, 2 now ms, 3 CDR json, 4 ttl seconds
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[4])) == false then return { 'duplicate' } end
redis.call('XADD', KEYS[2], '*', 'id', 'cdr:' .. ARGV[1], 'type', 'cdr', 'acct', '', 'amount', '0', 'bal', '0',
  'ref', ARGV[1], 'ts', ARGV[2], 'cdr', ARGV[3])
return { 'ok' }
