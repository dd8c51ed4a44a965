-- retry.lua: hand a transiently failed job to the retry set, atomically with its ack, so the
-- retry survives this process and is neither lost (ack without ZADD) nor doubled (ZADD without ack).
-- KEYS[1] stream   KEYS[2] retries (zset: score = due ms, member = job fields as JSON)
-- KEYS[3] request (status hash)   KEYS[4] lease
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] due (ms)   ARGV[5] member
-- ARGV[6] lease token (the lease is released only when it is still ours)
-- ARGV[7] per-number results JSON to merge ('' = none)   ARGV[8..] field, value pairs for the record
-- returns 1 when the job was scheduled, 0 when the entry had already been acked by someone else
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if redis.call('GET', KEYS[4]) == ARGV[6] then redis.call('DEL', KEYS[4]) end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local current = redis.call('HGET', KEYS[3], 'status')
  if current == 'queued' or current == 'sending' or current == 'retrying' then
    redis.call('HSET', KEYS[3], 'status', 'retrying')
  end
  redis.call('HSET', KEYS[3], 'retryingAt', ARGV[3], 'updatedAt', ARGV[3])
  if #ARGV > 7 then redis.call('HSET', KEYS[3], unpack(ARGV, 8)) end
  if ARGV[7] ~= '' then
    local merged = cjson.decode(redis.call('HGET', KEYS[3], 'results') or '{}')
    for mobile, r in pairs(cjson.decode(ARGV[7])) do merged[mobile] = r end
    local sent, failed = 0, 0
    for _, r in pairs(merged) do
      if r.status == 'sent' then sent = sent + 1 elseif r.status == 'failed' then failed = failed + 1 end
    end
    redis.call('HSET', KEYS[3], 'results', cjson.encode(merged), 'sent', sent, 'failed', failed)
  end
end
return 1
