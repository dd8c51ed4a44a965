-- unlease.lua: give back leases taken ahead for entries that never reached a provider (the
-- sender is stopping, or pausing). The lease goes and the job's record is put back as it was
-- before the lease (its attempts; a code request also 'queued' or 'retrying'), so whoever takes
-- the handed-back entry leases it at once with the same allowance. A lease this token no longer
-- holds is left alone. A part of a bulk request (lib/job-record.lua) leaves its request's status
-- alone: its siblings may be sending.
-- KEYS[1] stream (the only declared key, for cluster routing; the per-entry keys share its slot)
-- ARGV[1] the entries, a JSON array with one array per entry: lease key (the job's), request key
--   (status hash), job record key (= the request key for a code job), entry id, token, attempts
--   before the lease (see lease.lua on why one JSON argument)
-- returns how many leases were given back
local n = 0
for _, entry in ipairs(cjson.decode(ARGV[1])) do
  local lease, request, job, id, token, base = entry[1], entry[2], entry[3], entry[4], entry[5], tonumber(entry[6])
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
