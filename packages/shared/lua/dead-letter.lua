-- dead-letter.lua: a job that failed for good goes to the dead stream, atomically with its ack
-- and its 'failed' status; a carrier frequency limit also blocks the number until it ends.
-- Whose job is it? See lib/take-job.lua (no lease ever taken counts as a lapsed one).
-- KEYS[1] stream   KEYS[2] dead stream   KEYS[3] request (status hash)   KEYS[4] lease
-- KEYS[5] carrier block (only written when ARGV[6] > 0)
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] dead stream MAXLEN (approximate)
-- ARGV[5] lease token of this handling   ARGV[6] carrier block ms (0 = none)   ARGV[7] reason
-- ARGV[8] error   ARGV[9] attempts   ARGV[10] per-number results JSON to merge ('' = none)
-- ARGV[11..] dead entry fields (field, value pairs)
-- returns 1 when dead-lettered, 0 when the job is not this handling's to end
--#include status-rank.lua
--#include merge-results.lua
--#include take-job.lua
local group, id, now, token = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local mine, held = takeJob(KEYS[1], KEYS[3], KEYS[4], group, id, token)
if not mine then return 0 end
if held then redis.call('DEL', KEYS[4]) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 11))
local blockMs = tonumber(ARGV[6])
if blockMs > 0 then redis.call('SET', KEYS[5], ARGV[7], 'PX', blockMs) end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local current = redis.call('HGET', KEYS[3], 'status')
  redis.call('HSET', KEYS[3], 'failedAt', now, 'updatedAt', now, 'error', ARGV[8], 'failReason', ARGV[7], 'attempts', ARGV[9])
  if ARGV[10] ~= '' then mergeResults(KEYS[3], ARGV[10]) end
  if (RANK[current] or 0) < 2 then redis.call('HSET', KEYS[3], 'status', 'failed') end
end
return 1
