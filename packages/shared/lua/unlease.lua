-- unlease.lua: give back leases taken ahead for entries that never reached a provider (the
-- sender is stopping, or pausing). The lease goes and the job's record is put back as it was
-- before the lease (its attempts; a code request also 'queued' or 'retrying'), so whoever takes
-- the handed-back entry leases it at once with the same allowance. A lease this token no longer
-- holds is left alone. A part of a bulk request (lib/job-record.lua) leaves its request's status
-- alone: its siblings may be sending.
-- KEYS[1] stream (the only declared key, for cluster routing; the per-entry keys share its slot)
-- ARGV per entry (6 each): lease key (the job's), request key (status hash), job record key
--   (= the request key for a code job), entry id, token, attempts before the lease
-- returns how many leases were given back
local n = 0
for a = 1, #ARGV, 6 do
  local lease, request, job, id, token, base = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5])
  if redis.call('GET', lease) == token then
    redis.call('DEL', lease)
    if job ~= request then
      if redis.call('HGET', job, 'entryId') == id then redis.call('HSET', job, 'attempts', base) end
    else
      local rec = redis.call('HMGET', request, 'status', 'entryId')
      if rec[1] == 'sending' and rec[2] == id then
        redis.call('HSET', request, 'status', base > 0 and 'retrying' or 'queued', 'attempts', base)
      end
    end
    n = n + 1
  end
end
return n
