-- unlease.lua: give back leases taken ahead for entries that never reached a provider (the
-- sender is stopping). The lease goes and the record is put back as it was before the lease
-- (its attempts, and 'queued' or 'retrying'), so whoever takes the handed-back entry leases it
-- at once with the same allowance. A lease this token no longer holds is left alone.
-- KEYS[1] stream (the only declared key, for cluster routing; the per-entry keys share its slot)
-- ARGV per entry (5 each): lease key, request key (status hash), entry id, token, attempts before the lease
-- returns how many leases were given back
local n = 0
for a = 1, #ARGV, 5 do
  local lease, request, id, token, base = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], tonumber(ARGV[a + 4])
  if redis.call('GET', lease) == token then
    redis.call('DEL', lease)
    local rec = redis.call('HMGET', request, 'status', 'entryId')
    if rec[1] == 'sending' and rec[2] == id then
      redis.call('HSET', request, 'status', base > 0 and 'retrying' or 'queued', 'attempts', base)
    end
    n = n + 1
  end
end
return n
