-- receipt.lua: apply a carrier's delivery receipt to the request its message id belongs to.
-- The same forward-only rule as the other writers of the status record (lib/status-rank.lua): delivered and
-- undelivered move a record on from queued/sending/retrying/sent only; after a delivery
-- end or a check end a late receipt only adds its timestamp. The carrier's reason becomes
-- the record's error only when the record moves to undelivered: a delivered record never
-- gains an error, and a late receipt never rewrites the reason of an ended one.
-- KEYS[1] serial (provider message id → requestId, written when the provider accepted)
-- ARGV[1] now (ms)   ARGV[2] '1' delivered, '0' undelivered   ARGV[3] carrier's reason ('' for none)
-- ARGV[4] request key prefix (keys.ts requestPrefix: same slot as KEYS[1]; the request id is only learnt here)
-- The record's fields: packages/shared/src/status-record.ts
-- returns {1, queuedAt} applied | {-1, queuedAt} already final, timestamp added | {0, ''} unknown
--#include status-rank.lua
local id = redis.call('GET', KEYS[1])
if not id then return {0, ''} end
local request = ARGV[4] .. id
if redis.call('EXISTS', request) == 0 then return {0, ''} end
local now = ARGV[1]
local new = ARGV[2] == '1' and 'delivered' or 'undelivered'
local current = redis.call('HGET', request, 'status')
local queuedAt = redis.call('HGET', request, 'queuedAt') or ''
redis.call('HSET', request, new .. 'At', now, 'updatedAt', now)
if (RANK[current] or 0) < RANK[new] then
  redis.call('HSET', request, 'status', new)
  if new == 'undelivered' and ARGV[3] ~= '' then redis.call('HSET', request, 'error', ARGV[3]) end
  return {1, queuedAt}
end
return {-1, queuedAt}
