-- finish.lua: a batch of jobs of one partition that a provider accepted: ack each entry and
-- record how its job ended, in one step. The record, the done marker and the serial
-- mapping are written whatever XACK answers: the message is on its way, so the truth is
-- recorded even when the entry already left the pending list (its consumer was deleted,
-- the group re-created) and no later copy is ever sent (the done marker stops it).
-- A status only moves forward and never leaves a final one (failed, delivered, undelivered,
-- verified, burnt, superseded, expired): a late finish after a receipt keeps 'delivered'.
-- A part of a bulk request (lib/job-record.lua) ends on its own record; its request gets the
-- part's per-number results and reads 'sent' only once every part ended.
-- KEYS[1] stream (the only declared key, so Redis Cluster clients route the call by it; the
--   per-job keys below carry the same hash tag, hence the same slot)
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] sent counter (this bucket's; same slot)
-- ARGV[4] that counter's TTL (ms)
-- ARGV[5] the jobs, a JSON array with one array per job: lease key (the job's), request key
--   (status hash), job record key (= the request key for a code job), serial key (provider
--   message id -> request id, for receipts; written when serial ms > 0), entry id, status
--   ('sent'; '' = ack only), done-marker ms ('0' = none), serial ms ('0' = none), request id,
--   per-number results JSON to merge ('' = none), attempts (numbers as strings), then an array of field, value,
--   field, value… for the request's record (see lease.lua on why one JSON argument)
-- returns the number of entries acked (fewer when some had already been acked or trimmed)
--#include status-rank.lua
--#include merge-results.lua
--#include job-record.lua
local group, now = ARGV[1], ARGV[2]
local ids = {}
local sentJobs = 0
for _, j in ipairs(cjson.decode(ARGV[5])) do
  local lease, request, job, serial, id, status = j[1], j[2], j[3], j[4], j[5], j[6]
  -- numbers stay the strings they came as wherever a command takes them (send.lua's header: a Lua
  -- number argument costs Redis a snprintf)
  local doneMs, serialMs, requestId, results, attempts = j[7], j[8], j[9], j[10], j[11]
  local fields = j[12]
  ids[#ids + 1] = id
  if status ~= '' and isPart(request, job) then
    writePart(request, job, 'attempts', attempts)
    if redis.call('EXISTS', request) == 1 then
      if results ~= '' then mergeResults(request, results) end
      raiseAttempts(request, tonumber(attempts))
      fields[#fields + 1] = 'updatedAt'; fields[#fields + 1] = now
      redis.call('HSET', request, unpack(fields))
    end
    endPart(request, job, status, now)
  else
    local current = status ~= '' and redis.call('HGET', request, 'status')
    if current then
      if results ~= '' then
        local sent = mergeResults(request, results)
        if sent == 0 and status == 'sent' then status = 'failed' end
      end
      local from, to = RANK[current] or 0, RANK[status]
      fields[#fields + 1] = 'attempts'; fields[#fields + 1] = attempts
      fields[#fields + 1] = status .. 'At'; fields[#fields + 1] = now
      fields[#fields + 1] = 'updatedAt'; fields[#fields + 1] = now
      if from < 3 and to >= from then fields[#fields + 1] = 'status'; fields[#fields + 1] = status end
      redis.call('HSET', request, unpack(fields))
    end
  end
  if status == 'sent' then sentJobs = sentJobs + 1 end
  if doneMs ~= '0' then redis.call('SET', lease, 'done', 'PX', doneMs) end
  if serialMs ~= '0' then redis.call('SET', serial, requestId, 'PX', serialMs) end
end
if sentJobs > 0 then
  redis.call('INCRBY', ARGV[3], sentJobs)
  redis.call('PEXPIRE', ARGV[3], ARGV[4])
end
if #ids == 0 then return 0 end
return redis.call('XACK', KEYS[1], group, unpack(ids))
