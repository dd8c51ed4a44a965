-- send.lua: accept or refuse one code request, atomically, in one round trip.
-- KEYS[1] number        (hash of everything kept per number, fields in lib/number-fields.lua; PX = the daily window)
-- KEYS[2] request       (status hash of the new request)
-- KEYS[3] stream        (sms:jobs or sms:jobs:{p})
-- KEYS[4] idempotency   (stored answer; untouched when ARGV[10] is '')
-- KEYS[5] ip sends      (zset, last hour)                   } standalone only: in cluster mode
-- KEYS[6] budget        (zset, last minute)                 } these live on other slots and are
-- KEYS[7] ip requests   (the general per-IP limit's counter)} taken by window.lua / count.lua first
-- ARGV[1] is one JSON array of strings holding every argument below; the script reads it as
-- its ARGV (a local of that name), so positions read as if each came on its own: ioredis's
-- cost is per argument: 38 of them cost about 8 µs more Node CPU a send than one (bench/README.md).
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
-- ARGV[20] when the code expires (ms)   ARGV[21] when the cooldown ends (ms; = now without one)
-- ARGV[22] the daily window (ms)        ARGV[23] how long the number's hash lasts (ms)
-- ARGV[24] the per-IP hourly window's start (ms)   ARGV[25] the budget window's start (ms)
-- ARGV[26..] job fields for XADD
-- Every number a command gets is one of these strings, never a Lua number: Redis 7.0 formats a
-- Lua number argument with snprintf("%.17g"), about 3,400 instructions each, and a send wrote
-- thirteen of them (bench/README.md, "Redis instructions").
-- returns {'ok', requestId, expiresAtMs, resendAtMs}
--       | {refusal, retryAfterMs}  refusal: too_frequent, daily_limit, carrier_limit, rate_limited,
--                                  budget_exhausted, backlog_full
--       | {'idempotency_mismatch'} | {'replay', storedAnswerJson}
local ARGV = cjson.decode(ARGV[1])
local now = tonumber(ARGV[1])
local id = ARGV[2]
local purpose = ARGV[4]
local fingerprint = ARGV[10]
local test = ARGV[12] == '1'
local dailyLimit = tonumber(ARGV[8])
local expiresAt, resendAt = ARGV[20], ARGV[21]
local number = KEYS[1]

-- Only an acceptance is stored: a refusal sent nothing, so a repeat is simply decided again
-- (with a fresh retryAfter) instead of replaying a stale 429 for a day.
local function answer(reply)
  if fingerprint ~= '' then
    redis.call('SET', KEYS[4], cjson.encode({ f = fingerprint, r = reply }), 'PX', ARGV[11])
  end
  return reply
end

--#include number-fields.lua
--#include sliding-window.lua
--#include recent-times.lua
--#include count-request.lua

-- The general per-IP limit counts every request that gets this far, as @fastify/rate-limit
-- does on the other routes (same key, same fixed window), so the send route needs no second trip.
if #KEYS >= 7 then
  local requestWait = countRequest(KEYS[7], ARGV[17], ARGV[18])
  if requestWait then return { 'rate_limited', requestWait } end
end

if fingerprint ~= '' then
  local stored = redis.call('GET', KEYS[4])
  if stored then
    local record = cjson.decode(stored)
    if record.f ~= fingerprint then return { 'idempotency_mismatch' } end
    return { 'replay', cjson.encode(record.r) }
  end
end

local f = purposeFields(purpose)
local state = redis.call('HMGET', number, CARRIER_UNTIL, f.resendAt, SENDS, f.id, f.expiresAt)
local sends
if not test then
  local carrierUntil = tonumber(state[1])
  if carrierUntil and carrierUntil > now then return { 'carrier_limit', carrierUntil - now } end
  local cooldownEnds = tonumber(state[2])
  if cooldownEnds and cooldownEnds > now then return { 'too_frequent', cooldownEnds - now } end
  local dailyWait
  sends, dailyWait = recentTimes(state[3], now, tonumber(ARGV[22]), dailyLimit)
  if dailyWait then return { 'daily_limit', dailyWait } end
end
if #KEYS >= 6 then
  local ipWait = windowFull(KEYS[5], now, ARGV[24], 3600000, tonumber(ARGV[15]))
  if ipWait then return { 'rate_limited', ipWait } end
  if not test and ARGV[16] ~= '0' then
    local budgetWait = windowFull(KEYS[6], now, ARGV[25], 60000, tonumber(ARGV[16]))
    if budgetWait then return { 'budget_exhausted', budgetWait } end
  end
end
if not test and redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[13]) then
  return { 'backlog_full', 1000 }
end

-- accepted: the previous code of this number and purpose, while it still works, stops working now
local previous = state[4]
if previous and (tonumber(state[5]) or 0) > now then
  local prevKey = ARGV[14] .. previous
  local prevStatus = redis.call('HGET', prevKey, 'status')
  if prevStatus and prevStatus ~= 'verified' and prevStatus ~= 'burnt' and prevStatus ~= 'expired' and prevStatus ~= 'superseded' then
    redis.call('HSET', prevKey, 'status', 'superseded', 'supersededAt', ARGV[1], 'updatedAt', ARGV[1])
  end
end

local fields = {
  f.hmac, ARGV[5], f.id, id, f.client, ARGV[19], f.requesterTries, '0', f.otherTries, '0', f.expiresAt, expiresAt,
}
if test then
  resendAt = ARGV[1]
  redis.call('HSET', number, unpack(fields))
  -- a test number keeps no daily window: the hash need only outlive this code
  if redis.call('PTTL', number) < tonumber(ARGV[6]) then redis.call('PEXPIRE', number, ARGV[6]) end
else
  if ARGV[7] ~= '0' then
    fields[#fields + 1] = f.resendAt
    fields[#fields + 1] = resendAt
  end
  fields[#fields + 1] = SENDS
  fields[#fields + 1] = withTime(sends, ARGV[1], dailyLimit)
  redis.call('HSET', number, unpack(fields))
  redis.call('PEXPIRE', number, ARGV[23])
end
if #KEYS >= 6 then
  redis.call('ZADD', KEYS[5], ARGV[1], id)
  redis.call('PEXPIRE', KEYS[5], '3600000')
  if not test and ARGV[16] ~= '0' then
    redis.call('ZADD', KEYS[6], ARGV[1], id)
    redis.call('PEXPIRE', KEYS[6], '60000')
  end
end

if test then
  redis.call('HSET', KEYS[2], 'requestId', id, 'kind', 'code', 'mobile', ARGV[3], 'purpose', purpose,
    'status', 'sent', 'attempts', '0', 'provider', 'test', 'createdAt', ARGV[1], 'queuedAt', ARGV[1], 'sentAt', ARGV[1],
    'updatedAt', ARGV[1], 'expiresAt', expiresAt)
else
  redis.call('HSET', KEYS[2], 'requestId', id, 'kind', 'code', 'mobile', ARGV[3], 'purpose', purpose,
    'status', 'queued', 'attempts', '0', 'createdAt', ARGV[1], 'queuedAt', ARGV[1], 'updatedAt', ARGV[1], 'expiresAt', expiresAt)
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, 26))
end
redis.call('PEXPIRE', KEYS[2], ARGV[9])
return answer({ 'ok', id, expiresAt, resendAt })
