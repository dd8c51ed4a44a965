-- Whose job is it? The handling whose lease token still holds it. When the lease lapsed
-- meanwhile, the job is this handling's only if nobody moved it on: the entry was still
-- pending (XACK 1), or it left the pending list without a trace (its consumer deleted, the
-- group re-created: XACK 0) while the job's record still names this entry and no end. So an
-- XACK of 0 never silently drops the work. Acks the entry whenever the job is this one's.
-- Needs job-record.lua (a code job's record is its request's; a bulk part has its own).
-- returns mine (boolean), held (the lease was still this handling's)
local function takeJob(stream, request, job, lease, group, id, token)
  local holder = redis.call('GET', lease)
  if holder == token then
    redis.call('XACK', stream, group, id)
    return true, true
  end
  if holder == 'done' then
    redis.call('XACK', stream, group, id)
    return false, false
  end
  -- another handling holds the lease: the job is theirs; the entry stays pending for them
  if holder then return false, false end
  if redis.call('XACK', stream, group, id) == 0 then
    local ended, _, carrier = jobView(request, job)
    if ended or (carrier and carrier ~= id) then return false, false end
  end
  return true, false
end
