-- Several call-path operations of one shard in one script call (auto-batching in balance-store.ts).
-- Prepended: the common helpers, then op_r, op_e, op_s, op_l (the bodies of reserve.lua,
-- extend.lua, settle.lua and release.lua, each a function of its own KEYS and ARGV) and OPS (op
-- code to function). Every operation of a batch is on one shard: the shard's keys come once.
-- KEYS: 1 open-calls zset, 2 event stream, then per operation: its account hash, its call hash.
-- Each operation sees KEYS 1 account, 2 call, 3 open-calls zset, 4 stream (as its own script would).
-- ARGV: per operation: op code, n = number of its arguments, then its n arguments.
-- Returns one result per operation, in order: the operation's own result, or
-- { 'script_error', message } if it raised an error (its neighbours are unaffected; like a single
-- script call that fails, it is not rolled back, and each script checks before it writes).
local out, ki, ai, n = {}, 2, 1, #ARGV
local open, stream = KEYS[1], KEYS[2]
while ai <= n do
  local code, na = ARGV[ai], tonumber(ARGV[ai + 1])
  local fn = OPS[code]
  if not fn or not na then return redis.error_reply('ERR bad batch operation at ' .. ai) end
  local k, a = { KEYS[ki + 1], KEYS[ki + 2], open, stream }, {}
  for i = 1, na do a[i] = ARGV[ai + 1 + i] end
  ki = ki + 2
  ai = ai + 2 + na
  local ok, r = pcall(fn, k, a)
  if ok then
    out[#out + 1] = r
  else
    if type(r) == 'table' then r = r.err or 'error' end
    out[#out + 1] = { 'script_error', tostring(r) }
  end
end
return out
