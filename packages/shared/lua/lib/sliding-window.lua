-- A sliding window kept as a sorted set scored by time: drops what slid out (at or before
-- `start`, now - windowMs given as a string: a Lua number argument costs Redis a snprintf), then
-- returns nil when there is room, else the ms until its oldest entry leaves it
local function windowFull(key, now, start, windowMs, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', start)
  if redis.call('ZCARD', key) < limit then return nil end
  local oldest = redis.call('ZRANGE', key, '0', '0', 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + windowMs - now)
end
