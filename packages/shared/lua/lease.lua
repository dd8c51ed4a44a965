-- lease.lua: take the per-job send lease for a batch of stream entries of one partition,
-- before their provider calls. A job is a code request, or one part of a bulk request: each part
-- has its own lease, record and completion (lib/job-record.lua), so one part's end never makes
-- its siblings look done. One call per batch; for each entry it decides, atomically:
--   done     the job already ended (done marker; a code job's status at or past 'sent'; a part's
--            end): acked, not sent
--   stale    an older copy of a job that has moved on (the record names a later carrier entry, or
--            the job waits in the retry set), e.g. re-read after the group was re-created from 0: acked
--   busy     another handling holds the lease (its call may still be in flight): left pending
--   expired  the code expired before it could be sent: acked, status 'expired' (only from a status
--            before 'sent'; a final status never moves); a part ends 'expired' (lib/job-record.lua)
--   exhausted  SEND_MAX_ATTEMPTS provider calls were already made or assumed: the caller dead-letters
--   ok       leased: the caller may call the provider at most (max attempts - base) times;
--            also for a renewal, when the lease already holds this very token
-- Attempts: base = max(the entry's attempts, the job record's attempts). Every lease records base + 1
-- on the job's record at once, so a round that dies with its process (no completion ever written) still
-- counts as one call, and a job that keeps crashing its senders is dead-lettered in the end.
-- KEYS[1] stream (the only declared key, so Redis Cluster clients route the call by it; the
--   per-entry keys below carry the same hash tag, hence the same slot)
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] lease ms   ARGV[4] max attempts
-- ARGV[5] the entries, a JSON array with one array per entry: lease key (the job's), request key
--   (status hash), job record key (= the request key for a code job), entry id, token (unique per
--   handling), entry attempts, expiresAt. One JSON argument instead of seven per entry: the
--   client's cost per argument was a tenth of the sender's cost per job (bench/README.md).
-- returns a flat list, per entry: code, base   (code: 1 ok, 2 done, 3 stale, 4 busy, 5 expired, 6 exhausted)
--#include status-rank.lua
--#include job-record.lua
local group, now, leaseMs, maxAttempts = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
-- what the records are given: the string as it came (a Lua number argument costs Redis a snprintf)
local nowText = ARGV[2]

-- stream ids "ms-seq": is a older than b?
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return false end
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end

local out, ack = {}, {}
for _, entry in ipairs(cjson.decode(ARGV[5])) do
  local lease, request, job, id, token = entry[1], entry[2], entry[3], entry[4], entry[5]
  local entryAttempts, expiresAt = tonumber(entry[6]), tonumber(entry[7])
  local code, base = 0, entryAttempts
  local held = redis.call('GET', lease)
  local ended, recAttempts, carrier, how = jobView(request, job)
  if how == 'failed' and carrier and older(carrier, id) then
    -- a newer entry of a part that failed for good can only be an operator's replay
    reopenPart(request, job)
    ended, recAttempts = false, 0
  end
  if held == 'done' or ended then
    code = 2
  elseif carrier and carrier ~= id and (carrier == 'retry' or older(id, carrier)) then
    code = 3
  elseif held == token then
    -- this handling leased the entry ahead of a free slot and is renewing it before the call:
    -- the same allowance again, no attempt counted twice
    code = 1
    if recAttempts and recAttempts - 1 > base then base = recAttempts - 1 end
    redis.call('PEXPIRE', lease, leaseMs)
  elseif held then
    code = 4
  elseif now >= expiresAt then
    code = 5
    if isPart(request, job) then
      endPart(request, job, 'expired', nowText)
    elseif redis.call('EXISTS', request) == 1 then
      redis.call('HSET', request, 'status', 'expired', 'expiredAt', nowText, 'updatedAt', nowText)
    end
  else
    if recAttempts and recAttempts > base then base = recAttempts end
    if base >= maxAttempts then
      code = 6
    else
      code = 1
      redis.call('SET', lease, token, 'PX', leaseMs)
      if isPart(request, job) then
        writePart(request, job, 'attempts', base + 1, 'entryId', id)
        if redis.call('EXISTS', request) == 1 then
          if (RANK[redis.call('HGET', request, 'status')] or 0) < 2 then redis.call('HSET', request, 'status', 'sending') end
          redis.call('HSET', request, 'sendingAt', nowText, 'updatedAt', nowText)
          raiseAttempts(request, base + 1)
        end
      elseif redis.call('EXISTS', request) == 1 then
        redis.call('HSET', request, 'status', 'sending', 'attempts', base + 1, 'sendingAt', nowText, 'updatedAt', nowText, 'entryId', id)
      end
    end
  end
  if code == 2 or code == 3 or code == 5 then ack[#ack + 1] = id end
  out[#out + 1] = code
  out[#out + 1] = base
end
if #ack > 0 then redis.call('XACK', KEYS[1], group, unpack(ack)) end
return out
