-- trim.lua (sender): keep a partition stream short without ever trimming an entry that is
-- still pending or not yet delivered: XTRIM MINID (approximate) at the older of the group's
-- first pending id and its last-delivered id. One script, so no read can slip in between.
-- KEYS: one or more streams (several in one call only where they share a node: standalone)
-- ARGV[1] group
-- returns the number of entries trimmed (streams or groups that are missing are skipped)
local function trim(stream)
if redis.call('EXISTS', stream) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', stream)
local last
for _, g in ipairs(groups) do
  local name, delivered
  for i = 1, #g - 1, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then delivered = g[i + 1] end
  end
  if name == ARGV[1] then last = delivered end
end
if not last or last == '0-0' then return 0 end
local min = last
local summary = redis.call('XPENDING', stream, ARGV[1])
if tonumber(summary[1]) > 0 then
  local first = summary[2]
  local fm, fs = string.match(first, '^(%d+)-(%d+)$')
  local lm, ls = string.match(last, '^(%d+)-(%d+)$')
  fm, fs, lm, ls = tonumber(fm), tonumber(fs), tonumber(lm), tonumber(ls)
  if fm < lm or (fm == lm and fs < ls) then min = first end
end
return redis.call('XTRIM', stream, 'MINID', '~', min)
end
local total = 0
for _, stream in ipairs(KEYS) do total = total + trim(stream) end
return total
