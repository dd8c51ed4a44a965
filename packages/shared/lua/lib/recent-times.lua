-- A sliding window kept as the times (ms) of its newest entries, comma-joined in one hash
-- field: one HMGET and one HSET where a sorted set costs ZREMRANGEBYSCORE, ZCARD, ZADD and
-- PEXPIRE. It is exact: only the newest `limit` entries can decide whether the window has
-- room, so those are all it keeps.
-- recentTimes returns the times still inside the window (oldest first) and nil when there is
-- room, else the ms until the entry that fills it slides out.
local function recentTimes(joined, now, windowMs, limit)
  local times = {}
  if joined then
    local since = now - windowMs
    for t in string.gmatch(joined, '%d+') do
      if tonumber(t) > since then times[#times + 1] = t end
    end
  end
  if #times < limit then return times, nil end
  local filling = times[#times - limit + 1]
  return times, filling and math.max(1, tonumber(filling) + windowMs - now) or windowMs
end
-- the window after one more entry at `t`, its newest `limit` kept
local function withTime(times, t, limit)
  times[#times + 1] = t
  return table.concat(times, ',', math.max(1, #times - limit + 1))
end
