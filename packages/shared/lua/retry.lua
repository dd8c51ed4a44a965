-- retry.lua: hand a transiently failed job to the retry set, atomically with its ack, so the
-- retry survives this process and is neither lost (ack without ZADD) nor doubled (ZADD without ack).
-- Whose job is it? See lib/take-job.lua: an XACK of 0 never silently drops the work.
-- After a call that TIMED OUT (ARGV[7] = '1') the message may still reach the phone: the lease
-- is kept until it expires and the retry is due no earlier than the lease's end.
-- A part of a bulk request (lib/job-record.lua) records its carrier and attempts on its own
-- record; its request gets the merged per-number results and shows the most attempts of a part.
-- KEYS[1] stream   KEYS[2] retries (zset: score = due ms, member = job fields as JSON)
-- KEYS[3] request (status hash)   KEYS[4] lease (the job's)   KEYS[5] job record (= KEYS[3] for a code job)
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] due (ms)   ARGV[5] member
-- ARGV[6] lease token of this handling   ARGV[7] '1' keep the lease (a call timed out), else '0'
-- ARGV[8] per-number results JSON to merge ('' = none)   ARGV[9] attempts   ARGV[10] last error (the record's lastError;
--   its fields: src/status-record.ts)
-- returns the due time (ms) when scheduled; 0 when the job is not this handling's to schedule
--#include status-rank.lua
--#include merge-results.lua
--#include job-record.lua
--#include take-job.lua
local request, lease, job = KEYS[3], KEYS[4], KEYS[5]
local group, id, now, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[6]
local attempts, lastError = tonumber(ARGV[9]), ARGV[10]
local mine, held = takeJob(KEYS[1], request, job, lease, group, id, token)
if not mine then return 0 end
local due = tonumber(ARGV[4])
if held then
  if ARGV[7] == '1' then
    -- `now` is the sender's clock when it made this call, a little behind Redis's: without the
    -- slack a retry promoted right at the lease's end can still find it held, and would then
    -- wait for a claim pass instead of running.
    local left = redis.call('PTTL', lease)
    if left > 0 and now + left + 250 > due then due = now + left + 250 end
  else
    redis.call('DEL', lease)
  end
end
redis.call('ZADD', KEYS[2], due, ARGV[5])
-- the job now waits in the retry set: any copy still in the stream is stale (lease.lua)
if isPart(request, job) then writePart(request, job, 'entryId', 'retry', 'attempts', attempts) end
if redis.call('EXISTS', request) == 1 then
  local current = redis.call('HGET', request, 'status')
  if (RANK[current] or 0) < 2 then redis.call('HSET', request, 'status', 'retrying') end
  redis.call('HSET', request, 'retryingAt', now, 'updatedAt', now, 'retryAt', due, 'lastError', lastError)
  if isPart(request, job) then
    raiseAttempts(request, attempts)
  else
    redis.call('HSET', request, 'entryId', 'retry', 'attempts', attempts)
  end
  if ARGV[8] ~= '' then mergeResults(request, ARGV[8]) end
end
return due
