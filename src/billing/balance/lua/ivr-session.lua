-- The record of one access-number session (no money moves), exactly once per session id,
-- appended to the stream for the ledger writer.
-- KEYS: 1 marker, 2 event stream   ARGV: 1 session id (the caller's Call-ID), 2 now ms, 3 session json, 4 ttl seconds
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[4])) == false then return { 'duplicate' } end
redis.call('XADD', KEYS[2], '*', 'id', 'ivr:' .. ARGV[1], 'type', 'ivr_session', 'acct', '', 'amount', '0', 'bal', '0',
  'ref', ARGV[1], 'ts', ARGV[2], 'session', ARGV[3])
return { 'ok' }
