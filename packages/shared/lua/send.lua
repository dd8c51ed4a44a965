-- send.lua: accept or refuse one code request, atomically, in one round trip.
-- KEYS[1] cooldown      (per number and purpose, PX = resend interval)
-- KEYS[2] code          (hash h, id, c = requester's client key, r/o = wrong tries; PX = code TTL)
-- KEYS[3] daily         (zset of accepted sends in the last 24 h + code TTL)
-- KEYS[4] carrier block (string, TTL until the carrier's window ends)
-- KEYS[5] request       (status hash of the new request)
-- KEYS[6] stream        (sms:jobs or sms:jobs:{p})
-- KEYS[7] idempotency   (stored answer; untouched when ARGV[10] is '')
-- KEYS[8] ip sends      (zset, last hour)                   } standalone only: in cluster mode
-- KEYS[9] budget        (zset, last minute)                 } these live on other slots and are
-- KEYS[10] ip requests  (the general per-IP limit's counter)} taken by window.lua / count.lua first
-- ARGV[1]  now (ms)            ARGV[2]  request id        ARGV[3] mobile (E.164)
-- ARGV[4]  purpose             ARGV[5]  code HMAC         ARGV[6] code TTL (ms)
-- ARGV[7]  resend interval ms  ARGV[8]  daily limit       ARGV[9] status record TTL (ms)
-- ARGV[10] idempotency fingerprint ('' = no key)          ARGV[11] idempotency TTL (ms)
-- ARGV[12] '1' for a test number (no job, no cooldown, no daily count)
-- ARGV[13] stream hard cap (refuse rather than trim unsent jobs)
-- ARGV[14] request key prefix (keys.ts requestPrefix; same slot; the superseded request's id is only known here)
-- ARGV[15] ip limit per hour   ARGV[16] budget per minute (0 = off)
-- ARGV[17] general requests per IP per window   ARGV[18] that window (ms)
-- ARGV[19] the requester's client key (verify.lua gives the requester its own budget)
-- ARGV[20..] job fields for XADD
-- returns {'ok', requestId, expiresAtMs, resendAtMs}
--       | {refusal, retryAfterMs}  refusal: too_frequent, daily_limit, carrier_limit, rate_limited,
--                                  budget_exhausted, backlog_full
--       | {'idempotency_mismatch'} | {'replay', storedAnswerJson}
local now = tonumber(ARGV[1])
local id = ARGV[2]
local fingerprint = ARGV[10]
local test = ARGV[12] == '1'
-- A send counts against the daily limit until 24 h after its code stops being checkable, so
-- any 24 h of verifies meets at most the daily limit's number of codes (docs/abuse-guards.md).
local dailyWindow = 86400000 + tonumber(ARGV[6])

-- Only an acceptance is stored: a refusal sent nothing, so a repeat is simply decided again
-- (with a fresh retryAfter) instead of replaying a stale 429 for a day.
local function answer(reply)
  if fingerprint ~= '' then
    redis.call('SET', KEYS[7], cjson.encode({ f = fingerprint, r = reply }), 'PX', ARGV[11])
  end
  return reply
end

--#include sliding-window.lua
--#include count-request.lua

-- The general per-IP limit counts every request that gets this far, as @fastify/rate-limit
-- does on the other routes (same key, same fixed window), so the send route needs no second trip.
if #KEYS >= 10 then
  local requestWait = countRequest(KEYS[10], ARGV[17], ARGV[18])
  if requestWait then return { 'rate_limited', requestWait } end
end

if fingerprint ~= '' then
  local stored = redis.call('GET', KEYS[7])
  if stored then
    local record = cjson.decode(stored)
    if record.f ~= fingerprint then return { 'idempotency_mismatch' } end
    return { 'replay', cjson.encode(record.r) }
  end
end

if not test then
  local blockedMs = redis.call('PTTL', KEYS[4])
  if blockedMs > 0 then return { 'carrier_limit', blockedMs } end
  local coolMs = redis.call('PTTL', KEYS[1])
  if coolMs > 0 then return { 'too_frequent', coolMs } end
  local dailyWait = windowFull(KEYS[3], now, dailyWindow, tonumber(ARGV[8]))
  if dailyWait then return { 'daily_limit', dailyWait } end
end
if #KEYS >= 9 then
  local ipWait = windowFull(KEYS[8], now, 3600000, tonumber(ARGV[15]))
  if ipWait then return { 'rate_limited', ipWait } end
  if not test and tonumber(ARGV[16]) > 0 then
    local budgetWait = windowFull(KEYS[9], now, 60000, tonumber(ARGV[16]))
    if budgetWait then return { 'budget_exhausted', budgetWait } end
  end
end
if not test and redis.call('XLEN', KEYS[6]) >= tonumber(ARGV[13]) then
  return { 'backlog_full', 1000 }
end

-- accepted: the previous code of this number and purpose stops working now
local previous = redis.call('HGET', KEYS[2], 'id')
if previous then
  local prevKey = ARGV[14] .. previous
  local prevStatus = redis.call('HGET', prevKey, 'status')
  if prevStatus and prevStatus ~= 'verified' and prevStatus ~= 'burnt' and prevStatus ~= 'expired' and prevStatus ~= 'superseded' then
    redis.call('HSET', prevKey, 'status', 'superseded', 'supersededAt', now, 'updatedAt', now)
  end
end

local codeTtl = tonumber(ARGV[6])
local expiresAt = now + codeTtl
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'h', ARGV[5], 'id', id, 'c', ARGV[19], 'r', 0, 'o', 0)
redis.call('PEXPIRE', KEYS[2], codeTtl)

local resendAt = now
if not test then
  local interval = tonumber(ARGV[7])
  if interval > 0 then
    redis.call('SET', KEYS[1], id, 'PX', interval)
    resendAt = now + interval
  end
  redis.call('ZADD', KEYS[3], now, id)
  redis.call('PEXPIRE', KEYS[3], dailyWindow)
end
if #KEYS >= 9 then
  redis.call('ZADD', KEYS[8], now, id)
  redis.call('PEXPIRE', KEYS[8], 3600000)
  if not test and tonumber(ARGV[16]) > 0 then
    redis.call('ZADD', KEYS[9], now, id)
    redis.call('PEXPIRE', KEYS[9], 60000)
  end
end

if test then
  redis.call('HSET', KEYS[5], 'requestId', id, 'kind', 'code', 'mobile', ARGV[3], 'purpose', ARGV[4],
    'status', 'sent', 'attempts', 0, 'provider', 'test', 'createdAt', now, 'queuedAt', now, 'sentAt', now,
    'updatedAt', now, 'expiresAt', expiresAt)
else
  redis.call('HSET', KEYS[5], 'requestId', id, 'kind', 'code', 'mobile', ARGV[3], 'purpose', ARGV[4],
    'status', 'queued', 'attempts', 0, 'createdAt', now, 'queuedAt', now, 'updatedAt', now, 'expiresAt', expiresAt)
  redis.call('XADD', KEYS[6], '*', unpack(ARGV, 20))
end
redis.call('PEXPIRE', KEYS[5], ARGV[9])
return answer({ 'ok', id, expiresAt, resendAt })
