-- bulk.lua: queue one bulk notification request (several jobs), atomically, in one round trip.
-- KEYS[1] request      (status hash of the bulk request)
-- KEYS[2] stream       (sms:jobs or sms:jobs:{p})
-- KEYS[3] idempotency  (stored answer; untouched when ARGV[3] is '')
-- ARGV[1] now (ms)     ARGV[2] request id     ARGV[3] idempotency fingerprint ('' = no key)
-- ARGV[4] idempotency TTL (ms)                ARGV[5] status record TTL (ms)
-- ARGV[6] recipients (count of numbers queued) ARGV[7] stream hard cap (refuse rather than trim)
-- ARGV[8] answer to remember for the Idempotency-Key (JSON, the 202 body)
-- ARGV[9] expiresAt (ms)
-- ARGV[10] results of the TEST_NUMBERS among the recipients, JSON {mobile: {status, provider}}
--          ('' = none): they never reach a provider, so they are answered here
-- ARGV[11] number of jobs N (0 when every recipient is a test number)
-- ARGV[12..] N times: field count F, then F job fields for XADD
-- returns {'ok', requestId} | {'backlog_full', retryAfterMs} | {'idempotency_mismatch'}
--       | {'replay', storedAnswerJson}
local now = ARGV[1]
local id = ARGV[2]
local fingerprint = ARGV[3]

if fingerprint ~= '' then
  local stored = redis.call('GET', KEYS[3])
  if stored then
    local record = cjson.decode(stored)
    if record.f ~= fingerprint then return { 'idempotency_mismatch' } end
    return { 'replay', record.r }
  end
end

local jobs = tonumber(ARGV[11])
if jobs > 0 and redis.call('XLEN', KEYS[2]) + jobs > tonumber(ARGV[7]) then return { 'backlog_full', 1000 } end

redis.call('HSET', KEYS[1], 'requestId', id, 'kind', 'bulk', 'status', 'queued', 'attempts', 0,
  'recipients', ARGV[6], 'jobs', jobs, 'createdAt', now, 'queuedAt', now, 'updatedAt', now, 'expiresAt', ARGV[9])
if ARGV[10] ~= '' then
  local sent = 0
  for _ in pairs(cjson.decode(ARGV[10])) do sent = sent + 1 end
  redis.call('HSET', KEYS[1], 'results', ARGV[10], 'sent', sent, 'failed', 0)
  -- test numbers only: nothing to send, the request is done
  if jobs == 0 then redis.call('HSET', KEYS[1], 'status', 'sent', 'sentAt', now, 'provider', 'test') end
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])

local i = 12
for _ = 1, jobs do
  local count = tonumber(ARGV[i])
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, i + 1, i + count))
  i = i + count + 1
end

if fingerprint ~= '' then
  redis.call('SET', KEYS[3], cjson.encode({ f = fingerprint, r = ARGV[8] }), 'PX', ARGV[4])
end
return { 'ok', id }
