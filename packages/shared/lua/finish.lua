-- finish.lua: ack a stream entry and record how its request ended, in one step.
-- Used when a provider accepted (status 'sent' + done marker + serial mappings), when a job
-- expired unsent ('expired'), and to drop an entry whose request had already ended ('').
-- KEYS[1] stream   KEYS[2] request (status hash)   KEYS[3] lease
-- KEYS[4] serial (provider message id -> request id, for delivery receipts; read when ARGV[6] > 0)
-- ARGV[1] group   ARGV[2] entry id   ARGV[3] now (ms)   ARGV[4] new status ('' = ack only)
-- ARGV[5] done-marker ms (0 = none)  ARGV[6] serial ms (0 = none)  ARGV[7] request id
-- ARGV[8] per-number results JSON to merge into the record's `results` ('' = none)
-- ARGV[9..] field, value pairs for the status record
-- returns the number of entries acked (0 when it was already acked or trimmed)
local RANK = { queued = 0, sending = 1, retrying = 1, sent = 2,
  failed = 3, delivered = 3, undelivered = 3,
  verified = 4, burnt = 4, superseded = 4, expired = 4 }
local now = ARGV[3]
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
local status = ARGV[4]
if status ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  if #ARGV > 8 then redis.call('HSET', KEYS[2], unpack(ARGV, 9)) end
  if ARGV[8] ~= '' then
    local merged = cjson.decode(redis.call('HGET', KEYS[2], 'results') or '{}')
    for mobile, r in pairs(cjson.decode(ARGV[8])) do merged[mobile] = r end
    local sent, failed = 0, 0
    for _, r in pairs(merged) do
      if r.status == 'sent' then sent = sent + 1 elseif r.status == 'failed' then failed = failed + 1 end
    end
    redis.call('HSET', KEYS[2], 'results', cjson.encode(merged), 'sent', sent, 'failed', failed)
    if sent == 0 and status == 'sent' then status = 'failed' end
  end
  local current = redis.call('HGET', KEYS[2], 'status')
  local from, to = RANK[current] or 0, RANK[status]
  redis.call('HSET', KEYS[2], status .. 'At', now, 'updatedAt', now)
  if to > from or (to == from and to < 3) then redis.call('HSET', KEYS[2], 'status', status) end
end
if tonumber(ARGV[5]) > 0 then
  redis.call('SET', KEYS[3], 'done', 'PX', ARGV[5])
end
if tonumber(ARGV[6]) > 0 then
  redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[6])
end
return acked
