-- forget-consumers.lua (sender): remove consumers of the group that are gone: idle (no read or
-- claim attempted) for at least ARGV[2] ms AND holding no pending entry. The check and the
-- XGROUP DELCONSUMER run in one script, so no XREADGROUP can hand the consumer entries in
-- between (deleting a consumer drops its pending entries from the group).
-- KEYS[1] stream   ARGV[1] group   ARGV[2] least idle ms   ARGV[3] this consumer (never removed)
-- returns the names removed
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return {} end
local minIdle = tonumber(ARGV[2])
local removed = {}
for _, c in ipairs(consumers) do
  local name, pending, idle
  for i = 1, #c - 1, 2 do
    if c[i] == 'name' then name = c[i + 1]
    elseif c[i] == 'pending' then pending = tonumber(c[i + 1])
    elseif c[i] == 'idle' then idle = tonumber(c[i + 1]) end
  end
  if name and name ~= ARGV[3] and pending == 0 and idle and idle >= minIdle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed[#removed + 1] = name
  end
end
return removed
