-- trim.lua (sender): keep a partition stream short without ever trimming an entry that is
-- still pending or not yet delivered: XTRIM MINID (approximate) at the older of the group's
-- first pending id and its last-delivered id. One script, so no read can slip in between.
-- KEYS[1] stream   ARGV[1] group
-- returns the number of entries trimmed (0 when the stream or the group is missing)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
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
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
if tonumber(summary[1]) > 0 then
  local first = summary[2]
  local fm, fs = string.match(first, '^(%d+)-(%d+)$')
  local lm, ls = string.match(last, '^(%d+)-(%d+)$')
  fm, fs, lm, ls = tonumber(fm), tonumber(fs), tonumber(lm), tonumber(ls)
  if fm < lm or (fm == lm and fs < ls) then min = first end
end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', min)
