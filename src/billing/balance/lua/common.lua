-- Shared helpers, prepended to every balance script.
-- Money is integer micro-units. Lua numbers are doubles: exact for integers below 2^53, and every
-- amount is checked below 2^53 before it reaches here. Numbers are written back with %d, never
-- tostring (which would print 1e+15).
local function int(v) if v == false or v == nil then return 0 end return tonumber(v) end
local function s(n) return string.format('%d', n) end
local function acct_get(key)
  local v = redis.call('HMGET', key, 'bal', 'rsv', 'floor', 'maxcalls', 'cap', 'status', 'calls', 'day', 'dayspent')
  if v[1] == false then return nil end
  return { bal = int(v[1]), rsv = int(v[2]), floor = int(v[3]), maxcalls = int(v[4]),
           cap = (v[5] == false) and -1 or tonumber(v[5]), status = v[6] or 'active', calls = int(v[7]),
           day = v[8] or '', dayspent = int(v[9]) }
end
-- Spend allowed today by the daily cap, after today's settled spend and every open reservation.
local function spendable(a, day)
  local avail = a.bal - a.rsv - a.floor
  if a.cap >= 0 then
    local spent = 0
    if a.day == day then spent = a.dayspent end
    local capleft = a.cap - spent - a.rsv
    if capleft < avail then return capleft, 'daily_cap' end
  end
  return avail, 'insufficient_credit'
end
