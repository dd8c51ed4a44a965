-- promote.lua: move retries that are due back into the stream. Add and remove happen in one
-- script, so a crash anywhere leaves each job either in the set or in the stream, never both.
-- The job's record names the new entry as the job's carrier (entryId), so an older copy
-- that is read again later (a group re-created from 0) is recognised as stale by lease.lua.
-- A code job's record is its request's; a part of a bulk request has its own (keys.ts job: the
-- job prefix and its jobId, or its requestId for a part queued before parts had ids).
-- One call can serve several partitions (standalone: one call per pass for all of them; in
-- cluster mode one partition per call, since each lives on its own slot).
-- KEYS: per partition i, KEYS[2i-1] retries (zset), KEYS[2i] stream
-- ARGV[1] now (ms)   ARGV[2] most jobs to move per partition
-- ARGV[1+2i] request key prefix of partition i, ARGV[2+2i] its job record prefix (keys.ts requestPrefix and jobPrefix;
--   same slot; '' = none)
-- returns {moved, most moved in one partition, partitions with retries still waiting}
local moved, most, waiting = 0, 0, 0
for p = 1, #KEYS / 2 do
  local retries, stream, prefix, jobPrefix = KEYS[2 * p - 1], KEYS[2 * p], ARGV[1 + 2 * p], ARGV[2 + 2 * p]
  local due = redis.call('ZRANGEBYSCORE', retries, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
  for _, member in ipairs(due) do
    local fields = cjson.decode(member)
    local id = redis.call('XADD', stream, '*', unpack(fields))
    if prefix ~= '' then
      local f = {}
      for i = 1, #fields - 1, 2 do f[fields[i]] = fields[i + 1] end
      local record = prefix .. (f.requestId or '')
      if f.kind == 'bulk' then record = jobPrefix .. (f.jobId or f.requestId or '') end
      if redis.call('EXISTS', record) == 1 then redis.call('HSET', record, 'entryId', id) end
    end
  end
  if #due > 0 then redis.call('ZREM', retries, unpack(due)) end
  moved = moved + #due
  if #due > most then most = #due end
  if redis.call('EXISTS', retries) == 1 then waiting = waiting + 1 end
end
return { moved, most, waiting }
