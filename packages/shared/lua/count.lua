-- count.lua: the general per-IP request limit for the send routes in cluster mode, where its
-- counter lives on its own slot. The same fixed window as @fastify/rate-limit's Redis store
-- (same key), so one client's requests count against one limit on every route.
-- KEYS[1] counter
-- ARGV[1] limit   ARGV[2] window (ms)
-- returns {1} | {0, retryAfterMs}
local requests = redis.call('INCR', KEYS[1])
if requests == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if requests <= tonumber(ARGV[1]) then return { 1 } end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return { 0, ttl }
