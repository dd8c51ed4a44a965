-- dead-letter.lua: a job that failed for good goes to the dead stream, atomically with its ack
-- and its 'failed' status; a carrier frequency limit also blocks the number until it ends.
-- KEYS[1] stream   KEYS[2] dead stream   KEYS[3] request (status hash)   KEYS[4] lease
-- KEYS[5] carrier block (only read when ARGV[6] > 0)
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] dead stream MAXLEN (approximate)
-- ARGV[5] lease token   ARGV[6] carrier block ms (0 = none)   ARGV[7] reason   ARGV[8] error
-- ARGV[9] attempts   ARGV[10..] dead entry fields (field, value pairs)
-- returns 1 when dead-lettered, 0 when the entry had already been acked by someone else
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local now = ARGV[3]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 10))
if redis.call('GET', KEYS[4]) == ARGV[5] then redis.call('DEL', KEYS[4]) end
local blockMs = tonumber(ARGV[6])
if blockMs > 0 then redis.call('SET', KEYS[5], ARGV[7], 'PX', blockMs) end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local current = redis.call('HGET', KEYS[3], 'status')
  redis.call('HSET', KEYS[3], 'failedAt', now, 'updatedAt', now, 'error', ARGV[8], 'failReason', ARGV[7], 'attempts', ARGV[9])
  if current == 'queued' or current == 'sending' or current == 'retrying' then
    redis.call('HSET', KEYS[3], 'status', 'failed')
  end
end
return 1
