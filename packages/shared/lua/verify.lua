-- verify.lua: check one code, atomically, in one round trip.
-- KEYS[1] code            (hash h, id, tries)
-- KEYS[2] verify failures (zset of wrong tries in the last 24 h for this number)
-- ARGV[1] now (ms)   ARGV[2] HMAC of the offered code   ARGV[3] max wrong tries per code
-- ARGV[4] max wrong tries per number per 24 h            ARGV[5] request key prefix (same slot)
-- returns {'verified', requestId} | {'wrong_code', attemptsLeft} | {'no_code'}
--       | {'too_many_attempts', retryAfterMs}
local now = tonumber(ARGV[1])
local maxTries = tonumber(ARGV[3])
local maxDaily = tonumber(ARGV[4])
local DAY = 86400000

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - DAY)
local function dailyWait()
  if redis.call('ZCARD', KEYS[2]) < maxDaily then return nil end
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + DAY - now)
end

local wait = dailyWait()
if wait then return { 'too_many_attempts', wait } end

local stored = redis.call('HMGET', KEYS[1], 'h', 'id', 'tries')
local hmac, id, tries = stored[1], stored[2], tonumber(stored[3])
if not hmac then return { 'no_code' } end
if tries >= maxTries then return { 'too_many_attempts', math.max(1, redis.call('PTTL', KEYS[1])) } end

-- constant-time comparison: no early exit on the first differing byte
local offered = ARGV[2]
local diff = #offered == #hmac and 0 or 1
for i = 1, math.min(#offered, #hmac) do
  diff = bit.bor(diff, bit.bxor(string.byte(offered, i), string.byte(hmac, i)))
end

local requestKey = ARGV[5] .. id
if diff == 0 then
  redis.call('DEL', KEYS[1])
  if redis.call('EXISTS', requestKey) == 1 then
    redis.call('HSET', requestKey, 'status', 'verified', 'verifiedAt', now, 'updatedAt', now)
  end
  return { 'verified', id }
end

tries = tries + 1
redis.call('HSET', KEYS[1], 'tries', tries)
redis.call('ZADD', KEYS[2], now, id .. ':' .. tries)
redis.call('PEXPIRE', KEYS[2], DAY)
if tries >= maxTries then
  if redis.call('EXISTS', requestKey) == 1 then
    redis.call('HSET', requestKey, 'status', 'burnt', 'burntAt', now, 'updatedAt', now)
  end
  -- the burning try may also be the number's last of the day: answer the longer of the two waits
  return { 'too_many_attempts', math.max(1, redis.call('PTTL', KEYS[1]), dailyWait() or 0) }
end
wait = dailyWait()
if wait then return { 'too_many_attempts', wait } end
return { 'wrong_code', maxTries - tries }
