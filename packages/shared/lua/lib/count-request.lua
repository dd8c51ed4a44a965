-- The general per-IP request limit: the same fixed window and key as @fastify/rate-limit's Redis
-- store, so one client's requests count against one limit on every route.
-- returns nil while under the limit, else the ms until the window ends
local function countRequest(key, limit, windowMs)
  local requests = redis.call('INCR', key)
  if requests == 1 then redis.call('PEXPIRE', key, windowMs) end
  if requests <= tonumber(limit) then return nil end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, windowMs)
    ttl = tonumber(windowMs)
  end
  return ttl
end
