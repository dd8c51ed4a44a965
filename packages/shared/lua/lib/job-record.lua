-- A job's own record. A code job is its request's only job, so its record IS the request's
-- status hash (the caller passes the request key twice). Each part of a bulk request has its
-- own hash (keys.ts job: attempts, entryId = the entry that carries it, end = how it ended),
-- and the request counts what its parts did: merged per-number results, `jobsEnded` of `jobs`,
-- and a final status only once every part ended. Needs status-rank.lua.

local function isPart(request, job) return job ~= request end

-- ended (boolean), attempts (number or nil), carrier entry id (string or false), how a part ended
local function jobView(request, job)
  if not isPart(request, job) then
    local r = redis.call('HMGET', request, 'status', 'attempts', 'entryId')
    return (r[1] and (RANK[r[1]] or 0) >= 2) or false, tonumber(r[2]), r[3], false
  end
  local r = redis.call('HMGET', job, 'end', 'attempts', 'entryId')
  return r[1] ~= false, tonumber(r[2]), r[3], r[1]
end

-- An operator's replay of a failed part's dead letter (`pnpm sms dead replay`) re-queues it as a
-- new entry: the part opens again with its full attempts, and its request counts it open.
local function reopenPart(request, job)
  redis.call('HDEL', job, 'end')
  redis.call('HSET', job, 'attempts', 0)
  if redis.call('EXISTS', request) == 1 then redis.call('HINCRBY', request, 'jobsEnded', -1) end
end

-- the request's attempts: a part's request shows the most any of its parts made
local function raiseAttempts(request, attempts)
  local current = tonumber(redis.call('HGET', request, 'attempts') or '0') or 0
  if attempts > current then redis.call('HSET', request, 'attempts', attempts) end
end

-- a part's record lives as long as its request's (or a day, for a request without a record)
local function keepWithRequest(request, job)
  local left = redis.call('PTTL', request)
  redis.call('PEXPIRE', job, left > 0 and left or 86400000)
end

local function writePart(request, job, ...)
  redis.call('HSET', job, ...)
  keepWithRequest(request, job)
end

-- Ends a part once (`how`: sent, failed, expired). Returns whether this call ended it, and
-- whether every part of its request has now ended; then the request takes its final status:
-- sent when any number went out, else `how`.
local function endPart(request, job, how, now)
  if redis.call('HSETNX', job, 'end', how) == 0 then return false, false end
  keepWithRequest(request, job)
  if redis.call('EXISTS', request) == 0 then return true, false end
  local ended = redis.call('HINCRBY', request, 'jobsEnded', 1)
  local jobs = tonumber(redis.call('HGET', request, 'jobs') or '1') or 1
  if ended < jobs then return true, false end
  local status = tonumber(redis.call('HGET', request, 'sent') or '0') > 0 and 'sent' or how
  local current = redis.call('HGET', request, 'status')
  if (RANK[current] or 0) < 2 then redis.call('HSET', request, 'status', status, status .. 'At', now, 'updatedAt', now) end
  return true, true
end
