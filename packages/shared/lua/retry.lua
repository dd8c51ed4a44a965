-- retry.lua: hand a transiently failed job to the retry set, atomically with its ack, so the
-- retry survives this process and is neither lost (ack without ZADD) nor doubled (ZADD without ack).
-- Whose job is it? See lib/take-job.lua: an XACK of 0 never silently drops the work.
-- After a call that TIMED OUT (ARGV[7] = '1') the message may still reach the phone: the lease
-- is kept until it expires and the retry is due no earlier than the lease's end.
-- KEYS[1] stream   KEYS[2] retries (zset: score = due ms, member = job fields as JSON)
-- KEYS[3] request (status hash)   KEYS[4] lease
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] due (ms)   ARGV[5] member
-- ARGV[6] lease token of this handling   ARGV[7] '1' keep the lease (a call timed out), else '0'
-- ARGV[8] per-number results JSON to merge ('' = none)   ARGV[9..] field, value pairs for the record
-- returns the due time (ms) when scheduled; 0 when the job is not this handling's to schedule
--#include status-rank.lua
--#include merge-results.lua
--#include take-job.lua
local group, id, now, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[6]
local mine, held = takeJob(KEYS[1], KEYS[3], KEYS[4], group, id, token)
if not mine then return 0 end
local due = tonumber(ARGV[4])
if held then
  if ARGV[7] == '1' then
    -- `now` is the sender's clock when it made this call, a little behind Redis's: without the
    -- slack a retry promoted right at the lease's end can still find it held, and would then
    -- wait for a claim pass instead of running.
    local left = redis.call('PTTL', KEYS[4])
    if left > 0 and now + left + 250 > due then due = now + left + 250 end
  else
    redis.call('DEL', KEYS[4])
  end
end
redis.call('ZADD', KEYS[2], due, ARGV[5])
if redis.call('EXISTS', KEYS[3]) == 1 then
  local current = redis.call('HGET', KEYS[3], 'status')
  if (RANK[current] or 0) < 2 then redis.call('HSET', KEYS[3], 'status', 'retrying') end
  -- the job now waits in the retry set: any copy still in the stream is stale (lease.lua)
  redis.call('HSET', KEYS[3], 'retryingAt', now, 'updatedAt', now, 'retryAt', due, 'entryId', 'retry')
  if #ARGV > 8 then redis.call('HSET', KEYS[3], unpack(ARGV, 9)) end
  if ARGV[8] ~= '' then mergeResults(KEYS[3], ARGV[8]) end
end
return due
