-- A sliding window kept as a sorted set scored by time: drops what slid out, then
-- returns nil when there is room, else the ms until its oldest entry leaves it
local function windowFull(key, now, windowMs, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
  if redis.call('ZCARD', key) < limit then return nil end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + windowMs - now)
end
