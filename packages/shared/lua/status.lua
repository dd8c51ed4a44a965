-- status.lua: move a request's status record forward, never back.
-- A delivery end (failed, delivered, undelivered) and a check end (verified, burnt,
-- superseded, expired) are final: a later event only adds its fields and timestamp.
-- KEYS[1] request (status hash)
-- ARGV[1] now (ms)   ARGV[2] new status   ARGV[3..] field, value pairs to record
-- returns 1 when the status changed, 0 when only fields were added, -1 when no record exists
--#include status-rank.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local now = ARGV[1]
local new = ARGV[2]
local current = redis.call('HGET', KEYS[1], 'status')
local from, to = RANK[current] or 0, RANK[new]
local moves = to > from or (to == from and to < 3)
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
redis.call('HSET', KEYS[1], new .. 'At', now, 'updatedAt', now)
if moves then
  redis.call('HSET', KEYS[1], 'status', new)
  return 1
end
return 0
