-- dead-letter.lua: a job that failed for good goes to the dead stream, atomically with its ack
-- and its 'failed' status; a carrier frequency limit also blocks the number until it ends.
-- Whose job is it? See lib/take-job.lua (no lease ever taken counts as a lapsed one).
-- A part of a bulk request ends on its own record (lib/job-record.lua); its request reads
-- 'failed' only when every part ended and none sent a number ('sent' when some did).
-- KEYS[1] stream   KEYS[2] dead stream   KEYS[3] request (status hash)   KEYS[4] lease (the job's)
-- KEYS[5] the number's hash (lib/number-fields.lua; its carrierUntil written only when ARGV[6] > 0)   KEYS[6] job record (= KEYS[3] for a code job)
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] dead stream MAXLEN (approximate)
-- ARGV[5] lease token of this handling   ARGV[6] carrier block ms (0 = none)   ARGV[7] reason
-- ARGV[8] error   ARGV[9] attempts   ARGV[10] per-number results JSON to merge ('' = none)
-- ARGV[11..] dead entry fields (field, value pairs: encodeDeadLetter in src/dead-letter.ts)
-- The status record's fields (error, failReason, …): src/status-record.ts
-- returns 1 when dead-lettered, 0 when the job is not this handling's to end
--#include status-rank.lua
--#include merge-results.lua
--#include job-record.lua
--#include take-job.lua
--#include number-fields.lua
local request, lease, job = KEYS[3], KEYS[4], KEYS[6]
local group, id, now, token = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local reason, err, attempts = ARGV[7], ARGV[8], tonumber(ARGV[9])
local mine, held = takeJob(KEYS[1], request, job, lease, group, id, token)
if not mine then return 0 end
if held then redis.call('DEL', lease) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 11))
local blockMs = tonumber(ARGV[6])
if blockMs > 0 then
  redis.call('HSET', KEYS[5], CARRIER_UNTIL, tonumber(now) + blockMs)
  if redis.call('PTTL', KEYS[5]) < blockMs then redis.call('PEXPIRE', KEYS[5], blockMs) end
end
if isPart(request, job) then
  writePart(request, job, 'attempts', attempts, 'error', err, 'failReason', reason, 'failedAt', now)
  if redis.call('EXISTS', request) == 1 then
    if ARGV[10] ~= '' then mergeResults(request, ARGV[10]) end
    raiseAttempts(request, attempts)
    redis.call('HSET', request, 'updatedAt', now)
    local _, last = endPart(request, job, 'failed', now)
    if last and redis.call('HGET', request, 'status') == 'failed' then redis.call('HSET', request, 'error', err, 'failReason', reason) end
  else
    endPart(request, job, 'failed', now)
  end
elseif redis.call('EXISTS', request) == 1 then
  local current = redis.call('HGET', request, 'status')
  redis.call('HSET', request, 'failedAt', now, 'updatedAt', now, 'error', err, 'failReason', reason, 'attempts', attempts)
  if ARGV[10] ~= '' then mergeResults(request, ARGV[10]) end
  if (RANK[current] or 0) < 2 then redis.call('HSET', request, 'status', 'failed') end
end
return 1
