-- Top-up or operator adjustment: change the balance exactly once per idempotency key and append
-- the ledger event in the same step.
-- KEYS: 1 account hash, 2 idempotency marker, 3 event stream
-- ARGV: 1 kind (topup|adjust), 2 key, 3 account id, 4 amount (signed; > 0 for topup), 5 now ms,
--       6 marker ttl seconds, 7 provider, 8 provider reference, 9 reason
local kind, key, amt, now = ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5]
local prev = redis.call('HMGET', KEYS[2], 'acct', 'amount', 'bal')
if prev[1] then
  if prev[1] ~= ARGV[3] or prev[2] ~= ARGV[4] then return { 'idempotency_conflict', prev[1], prev[2] } end
  return { 'duplicate', prev[3] }
end
local a = acct_get(KEYS[1])
if not a then return { 'unknown_account' } end
if a.status == 'closed' then return { 'account_closed' } end
local bal = redis.call('HINCRBY', KEYS[1], 'bal', s(amt))
redis.call('HSET', KEYS[2], 'acct', ARGV[3], 'amount', ARGV[4], 'bal', bal)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
redis.call('XADD', KEYS[3], '*', 'id', kind .. ':' .. key, 'type', kind, 'acct', ARGV[3], 'amount', s(amt),
  'bal', bal, 'ref', key, 'ts', now, 'provider', ARGV[7], 'pref', ARGV[8], 'reason', ARGV[9])
return { 'ok', bal }
