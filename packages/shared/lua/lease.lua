-- lease.lua: take the per-request send lease before a provider call.
-- A request that already ended (done marker, or a status at or past 'sent') is not sent again;
-- a lease held by another call (perhaps still in flight) is left alone.
-- KEYS[1] lease        (string: the holder's token, or 'done' once sent)
-- KEYS[2] request      (status hash; may be missing)
-- ARGV[1] token   ARGV[2] lease ms   ARGV[3] now (ms)   ARGV[4] attempts so far
-- returns 'ok' | 'done' | 'busy'
local RANK = { queued = 0, sending = 1, retrying = 1, sent = 2,
  failed = 3, delivered = 3, undelivered = 3,
  verified = 4, burnt = 4, superseded = 4, expired = 4 }
local held = redis.call('GET', KEYS[1])
if held == 'done' then return 'done' end
local status = redis.call('HGET', KEYS[2], 'status')
if status and (RANK[status] or 0) >= 2 then return 'done' end
if held and held ~= ARGV[1] then return 'busy' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if status then
  redis.call('HSET', KEYS[2], 'status', 'sending', 'attempts', ARGV[4], 'sendingAt', ARGV[3], 'updatedAt', ARGV[3])
end
return 'ok'
