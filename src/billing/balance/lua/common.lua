-- Shared helpers, prepended to every balance script.
-- Money is integer micro-units. Lua numbers are doubles: exact for integers below 2^53, and every
-- amount is checked below 2^53 before it reaches here. Numbers are written back with %d, never
-- tostring (which would print 1e+15).
local function int(v) if v == false or v == nil then return 0 end return tonumber(v) end
local function s(n) return string.format('%d', n) end
local function acct_get(key)
  local v = redis.call('HMGET', key, 'bal', 'rsv', 'floor', 'maxcalls', 'cap', 'status', 'calls', 'day', 'dayspent', 'tz', 'off', 'offuntil')
  if v[1] == false then return nil end
  return { bal = int(v[1]), rsv = int(v[2]), floor = int(v[3]), maxcalls = int(v[4]),
           cap = (v[5] == false) and -1 or tonumber(v[5]), status = v[6] or 'active', calls = int(v[7]),
           day = v[8] or '', dayspent = int(v[9]), tz = v[10] or 'UTC', off = tonumber(v[11] or ''),
           offuntil = tonumber(v[12] or '') }
end
-- The account's calendar day (YYYY-MM-DD) at `now` (epoch ms), from the UTC offset of its time zone
-- stored in its hash with the instant the offset stops holding (the zone's next change; written by
-- the caller, account-day.ts). nil when that instant has passed or was never stored: the script
-- then returns { 'zone_stale', tz } before writing anything, and the caller stores the new offset
-- and runs the operation again. Days to civil date: H. Hinnant's days_from_civil inverse.
local function acct_day(a, now)
  now = tonumber(now)
  if a.off == nil or a.offuntil == nil or now >= a.offuntil then return nil end
  local z = math.floor((now + a.off) / 86400000) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp + 3
  if mp >= 10 then m = mp - 9 end
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02d', y, m, d)
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
