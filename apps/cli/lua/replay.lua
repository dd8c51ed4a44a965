-- replay.lua: put one dead letter back on its partition's stream, atomically.
-- KEYS[1] dead stream   KEYS[2] stream   KEYS[3] request (status hash; same slot)
-- ARGV[1] dead entry id   ARGV[2] now (ms)   ARGV[3] expected requestId ('' = none)
-- ARGV[4..] dead-letter-only field names (DEAD_LETTER_ONLY in packages/shared/src/dead-letter.ts), dropped from the re-queued entry
-- returns the new stream entry id, or false when the entry is gone (already
-- replayed or purged) or no longer belongs to the expected request
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return false end
local drop = {}
for i = 4, #ARGV do drop[ARGV[i]] = true end
local fields, requestId = {}, ''
local raw = entry[2]
for i = 1, #raw, 2 do
  local k, v = raw[i], raw[i + 1]
  if k == 'requestId' then requestId = v end
  -- A replay is a fresh start: the job gets its full SEND_MAX_ATTEMPTS again.
  if k == 'attempts' then v = '0' end
  if not drop[k] then
    fields[#fields + 1] = k
    fields[#fields + 1] = v
  end
end
if requestId ~= ARGV[3] then return false end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XDEL', KEYS[1], ARGV[1])
-- 'failed' is final for the sender; an operator's replay is the one thing that reopens it.
if redis.call('HGET', KEYS[3], 'status') == 'failed' then
  redis.call('HSET', KEYS[3], 'status', 'queued', 'replayedAt', ARGV[2], 'updatedAt', ARGV[2], 'attempts', 0)
end
return id
