-- send.lua: accept or refuse one code request, atomically, in one round trip.
-- KEYS[1] number        (hash of everything kept per number, fields in lib/number-fields.lua; PX = the daily window)
-- KEYS[2] request       (status hash of the new request)
-- KEYS[3] stream        (sms:jobs or sms:jobs:{p})
-- KEYS[4] idempotency   (stored answer; untouched when ARGV[6] is '')
-- KEYS[5] ip sends      (zset, last hour)                   } standalone only: in cluster mode
-- KEYS[6] budget        (zset, last minute)                 } these live on other slots and are
-- KEYS[7] ip requests   (the general per-IP limit's counter)} taken by window.lua / count.lua first
-- The settings (locals put in front of this file by sendScript.source, send-script.ts): what
-- every send of a deployment shares, so no call carries it; each argument costs Redis about 1,000
-- instructions to decode (bench/README.md, "Redis instructions"). Limits it compares are numbers,
-- spans it hands to Redis are strings: a Lua number argument costs Redis a snprintf("%.17g").
--   numbers: CODE_TTL_MS, RESEND_INTERVAL_MS, DAILY_LIMIT, DAILY_WINDOW_MS, STREAM_CAP,
--            IP_LIMIT_PER_HOUR, BUDGET_PER_MINUTE (0 = off), REQUEST_LIMIT (the general per-IP
--            limit, per REQUEST_WINDOW)
--   strings: CODE_TTL, STATUS_TTL, IDEMPOTENCY_TTL, REQUEST_WINDOW, NUMBER_TTL (how long the
--            number's hash lasts: the daily window, or a longer cooldown), JOB_VERSION (job.ts)
-- ARGV[1] is one JSON array of strings holding every argument below; the script reads it as
-- its ARGV (a local of that name), so positions read as if each came on its own: ioredis's
-- cost is per argument.
-- ARGV[1]  now (ms)            ARGV[2]  request id        ARGV[3] mobile (E.164)
-- ARGV[4]  purpose             ARGV[5]  code HMAC
-- ARGV[6]  idempotency fingerprint ('' = no key)
-- ARGV[7]  '1' for a test number (no job, no cooldown, no daily count)
-- ARGV[8]  the requester's client key (verify.lua gives the requester its own budget)
-- ARGV[9]  when the code expires (ms)   ARGV[10] when the cooldown ends (ms; = now without one)
-- ARGV[11] the per-IP hourly window's start (ms)   ARGV[12] the budget window's start (ms)
-- ARGV[13] the job's code field ('sealed' or 'code')   ARGV[14] its value
-- The job's other fields are the arguments above: the entry is encodeJob(sendScript.jobOf(...)).
-- Every number a command gets is a string, never a Lua number (see the settings).
-- returns {'ok', requestId, expiresAtMs, resendAtMs}
--       | {refusal, retryAfterMs}  refusal: too_frequent, daily_limit, carrier_limit, rate_limited,
--                                  budget_exhausted, backlog_full
--       | {'idempotency_mismatch'} | {'replay', storedAnswerJson}
local ARGV = cjson.decode(ARGV[1])
local now = tonumber(ARGV[1])
local id = ARGV[2]
local purpose = ARGV[4]
local fingerprint = ARGV[6]
local test = ARGV[7] == '1'
local dailyLimit = DAILY_LIMIT
local expiresAt, resendAt = ARGV[9], ARGV[10]
local number = KEYS[1]

-- Only an acceptance is stored: a refusal sent nothing, so a repeat is simply decided again
-- (with a fresh retryAfter) instead of replaying a stale 429 for a day.
local function answer(reply)
  if fingerprint ~= '' then
    redis.call('SET', KEYS[4], cjson.encode({ f = fingerprint, r = reply }), 'PX', IDEMPOTENCY_TTL)
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
  local requestWait = countRequest(KEYS[7], REQUEST_LIMIT, REQUEST_WINDOW)
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
  sends, dailyWait = recentTimes(state[3], now, DAILY_WINDOW_MS, dailyLimit)
  if dailyWait then return { 'daily_limit', dailyWait } end
end
if #KEYS >= 6 then
  local ipWait = windowFull(KEYS[5], now, ARGV[11], 3600000, IP_LIMIT_PER_HOUR)
  if ipWait then return { 'rate_limited', ipWait } end
  if not test and BUDGET_PER_MINUTE > 0 then
    local budgetWait = windowFull(KEYS[6], now, ARGV[12], 60000, BUDGET_PER_MINUTE)
    if budgetWait then return { 'budget_exhausted', budgetWait } end
  end
end
if not test and redis.call('XLEN', KEYS[3]) >= STREAM_CAP then
  return { 'backlog_full', 1000 }
end

-- accepted: the previous code of this number and purpose, while it still works, stops working now
local previous = state[4]
if previous and (tonumber(state[5]) or 0) > now then
  -- the superseded request's key: this request's key with the other id (same prefix, same slot)
  local prevKey = string.sub(KEYS[2], 1, #KEYS[2] - #id) .. previous
  local prevStatus = redis.call('HGET', prevKey, 'status')
  if prevStatus and prevStatus ~= 'verified' and prevStatus ~= 'burnt' and prevStatus ~= 'expired' and prevStatus ~= 'superseded' then
    redis.call('HSET', prevKey, 'status', 'superseded', 'supersededAt', ARGV[1], 'updatedAt', ARGV[1])
  end
end

local fields = { f.hmac, ARGV[5], f.id, id, f.client, ARGV[8], f.expiresAt, expiresAt }
-- The wrong tries of the previous code start again from none. Without a previous code there are
-- none to reset: verify.lua counts an absent field as 0 and deletes the tries with the code's id,
-- and a field less spares Redis 7.0 a reallocation of the hash (bench/README.md).
if previous then
  fields[#fields + 1] = f.requesterTries; fields[#fields + 1] = '0'
  fields[#fields + 1] = f.otherTries; fields[#fields + 1] = '0'
end
if test then
  resendAt = ARGV[1]
  redis.call('HSET', number, unpack(fields))
  -- a test number keeps no daily window: the hash need only outlive this code
  if redis.call('PTTL', number) < CODE_TTL_MS then redis.call('PEXPIRE', number, CODE_TTL) end
else
  if RESEND_INTERVAL_MS > 0 then
    fields[#fields + 1] = f.resendAt
    fields[#fields + 1] = resendAt
  end
  fields[#fields + 1] = SENDS
  fields[#fields + 1] = withTime(sends, ARGV[1], dailyLimit)
  redis.call('HSET', number, unpack(fields))
  redis.call('PEXPIRE', number, NUMBER_TTL)
end
if #KEYS >= 6 then
  redis.call('ZADD', KEYS[5], ARGV[1], id)
  redis.call('PEXPIRE', KEYS[5], '3600000')
  if not test and BUDGET_PER_MINUTE > 0 then
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
  redis.call('XADD', KEYS[3], '*', 'v', JOB_VERSION, 'kind', 'code', 'requestId', id, 'mobile', ARGV[3], 'purpose', purpose,
    ARGV[13], ARGV[14], 'createdAt', ARGV[1], 'expiresAt', expiresAt, 'attempts', '0')
end
redis.call('PEXPIRE', KEYS[2], STATUS_TTL)
return answer({ 'ok', id, expiresAt, resendAt })
