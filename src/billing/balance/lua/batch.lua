-- Several call-path operations of one shard in one script call (auto-batching in balance-store.ts).
-- Prepended: the common helpers, then op_r, op_e, op_s, op_l (the bodies of reserve.lua,
-- extend.lua, settle.lua and release.lua, each a function of its own KEYS and ARGV), OPS (op code
-- to function) and NKEYS (op code to its number of keys).
-- KEYS: every operation's keys, in order.
-- ARGV: per operation: op code, n = number of its arguments, then its n arguments.
-- Returns one result per operation, in order: the operation's own result, or
-- { 'script_error', message } if it raised an error (its neighbours are unaffected; like a single
-- script call that fails, it is not rolled back, and each script checks before it writes).
local out, ki, ai, n = {}, 0, 1, #ARGV
while ai <= n do
  local code, na = ARGV[ai], tonumber(ARGV[ai + 1])
  local fn, nk = OPS[code], NKEYS[code]
  if not fn or not na then return redis.error_reply('ERR bad batch operation at ' .. ai) end
  local k, a = {}, {}
  for i = 1, nk do k[i] = KEYS[ki + i] end
  for i = 1, na do a[i] = ARGV[ai + 1 + i] end
  ki = ki + nk
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
