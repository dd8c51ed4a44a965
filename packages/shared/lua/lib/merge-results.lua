-- A bulk request's per-number outcomes: merge one job's into the record and recount.
-- returns the record's sent and failed counts after the merge
local function mergeResults(request, json)
  local merged = cjson.decode(redis.call('HGET', request, 'results') or '{}')
  for mobile, r in pairs(cjson.decode(json)) do merged[mobile] = r end
  local sent, failed = 0, 0
  for _, r in pairs(merged) do
    if r.status == 'sent' then sent = sent + 1 elseif r.status == 'failed' then failed = failed + 1 end
  end
  redis.call('HSET', request, 'results', cjson.encode(merged), 'sent', sent, 'failed', failed)
  return sent, failed
end
