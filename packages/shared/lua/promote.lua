-- promote.lua: move retries that are due back into the stream. Add and remove happen in one
-- script, so a crash anywhere leaves each job either in the set or in the stream, never both.
-- The request's record names the new entry as the job's carrier (entryId), so an older copy
-- that is read again later (a group re-created from 0) is recognised as stale by lease.lua.
-- KEYS[1] retries (zset)   KEYS[2] stream
-- ARGV[1] now (ms)   ARGV[2] most jobs to move   ARGV[3] request key prefix (same slot; '' = none)
-- returns how many were moved
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due == 0 then return 0 end
for _, member in ipairs(due) do
  local fields = cjson.decode(member)
  local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
  if ARGV[3] ~= '' then
    for i = 1, #fields - 1, 2 do
      if fields[i] == 'requestId' then
        local request = ARGV[3] .. fields[i + 1]
        if redis.call('EXISTS', request) == 1 then redis.call('HSET', request, 'entryId', id) end
        break
      end
    end
  end
end
redis.call('ZREM', KEYS[1], unpack(due))
return #due
