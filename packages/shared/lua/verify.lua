-- verify.lua: check one code, atomically, in one round trip.
-- KEYS[1] number          (the number's hash, lib/number-fields.lua: this purpose's live code and
--                          its resendAt, when a new code may be asked for)
-- KEYS[2] verify failures (string: the times of this client's wrong tries on this number in the last
--                          24 h, lib/recent-times.lua)
-- KEYS[3] ip requests     (the general per-IP limit's counter; standalone only: in cluster mode it
--                          lives on another slot and count.lua takes it first)
-- ARGV[1] now (ms)   ARGV[2] HMAC of the offered code
-- ARGV[3] request key prefix (keys.ts requestPrefix; same slot)
-- ARGV[4] this verify's client key   ARGV[5] purpose
-- The settings (locals put in front of this file by verifyScript.source: what every verify of a
-- deployment shares travels in no call, settled-script.ts): MAX_TRIES wrong tries per code, per
-- side; MAX_DAILY wrong tries per number and client per 24 h; REQUEST_LIMIT general requests per
-- IP per REQUEST_WINDOW (ms, a string; with KEYS[3] only)
-- returns {'verified', requestId} | {'wrong_code', attemptsLeft} | {'no_code'} | {'rate_limited', retryAfterMs}
--       | {'too_many_attempts', retryAfterMs, guessed}  guessed: 1 when this try was checked (a wrong
--         guess that used up a budget), 0 when it was refused unchecked
--
-- Sides (docs/abuse-guards.md): the client that asked for the code has its own VERIFY_MAX_ATTEMPTS
-- wrong tries; all other clients share another VERIFY_MAX_ATTEMPTS. So nobody else can burn a code
-- for the one who asked, and a code never takes more than 2 x VERIFY_MAX_ATTEMPTS wrong guesses.
-- The requester spending its tries burns the code for everyone; the others spending theirs closes
-- it to everyone but the requester.
local now = tonumber(ARGV[1])
local maxTries = MAX_TRIES
local maxDaily = MAX_DAILY
local client = ARGV[4]
local purpose = ARGV[5]
-- times and TTLs go to commands as strings (ARGV[1], '86400000'): Redis formats a Lua number
-- argument with snprintf, which costs more than the command (send.lua's header)
local DAY = 86400000

--#include number-fields.lua
--#include recent-times.lua
--#include count-request.lua

-- The general per-IP limit counts the verify first, as the plugin would on another route (same
-- key, same window), so a verify is one round trip; a refused one checks nothing.
if #KEYS >= 3 then
  local requestWait = countRequest(KEYS[3], REQUEST_LIMIT, REQUEST_WINDOW)
  if requestWait then return { 'rate_limited', requestWait } end
end

local failures, wait = recentTimes(redis.call('GET', KEYS[2]), now, DAY, maxDaily)

if wait then return { 'too_many_attempts', wait, 0 } end

local f = purposeFields(purpose)
local stored = redis.call('HMGET', KEYS[1], f.hmac, f.id, f.client, f.requesterTries, f.otherTries, f.expiresAt, f.resendAt)
local hmac, id = stored[1], stored[2]
if not hmac or (tonumber(stored[6]) or 0) <= now then return { 'no_code' } end
-- a code closed to this client: come back when a new code may be asked for
local function newCodeWait()
  return math.max(1, (tonumber(stored[7]) or 0) - now)
end
local requester = stored[3] == client
local requesterTries, otherTries = tonumber(stored[4]) or 0, tonumber(stored[5]) or 0
local side = requester and f.requesterTries or f.otherTries
local tries = requester and requesterTries or otherTries
if requesterTries >= maxTries or tries >= maxTries then return { 'too_many_attempts', newCodeWait(), 0 } end

-- Constant time as it stands: Lua 5.1 (Redis's) interns every string, so == compares two
-- pointers and takes the same time wherever two HMACs differ. The byte loop this replaces cost
-- about 112,000 Redis instructions a verify, near half a whole send's (bench/README.md). And the
-- values are HMACs under CODE_PEPPER, which a client cannot work out for its guess.
local matches = ARGV[2] == hmac

local requestKey = ARGV[3] .. id
if matches then
  redis.call('HDEL', KEYS[1], f.hmac, f.id, f.client, f.requesterTries, f.otherTries, f.expiresAt)
  if redis.call('EXISTS', requestKey) == 1 then
    redis.call('HSET', requestKey, 'status', 'verified', 'verifiedAt', ARGV[1], 'updatedAt', ARGV[1])
  end
  return { 'verified', id }
end

tries = redis.call('HINCRBY', KEYS[1], side, '1')
local joined = withTime(failures, ARGV[1], maxDaily)
redis.call('SET', KEYS[2], joined, 'PX', '86400000')
local _, dayWait = recentTimes(joined, now, DAY, maxDaily)
if tries >= maxTries then
  if requester and redis.call('EXISTS', requestKey) == 1 then
    redis.call('HSET', requestKey, 'status', 'burnt', 'burntAt', ARGV[1], 'updatedAt', ARGV[1])
  end
  -- the closing try may also be this client's last of the day: answer the longer of the two waits
  return { 'too_many_attempts', math.max(newCodeWait(), dayWait or 0), 1 }
end
if dayWait then return { 'too_many_attempts', dayWait, 1 } end
return { 'wrong_code', maxTries - tries }
