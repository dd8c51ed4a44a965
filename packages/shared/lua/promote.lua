-- promote.lua: move retries that are due back into the stream. Add and remove happen in one
-- script, so a crash anywhere leaves each job either in the set or in the stream, never both.
-- KEYS[1] retries (zset)   KEYS[2] stream
-- ARGV[1] now (ms)   ARGV[2] most jobs to move
-- returns how many were moved
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', unpack(cjson.decode(member)))
  redis.call('ZREM', KEYS[1], member)
end
return #due
