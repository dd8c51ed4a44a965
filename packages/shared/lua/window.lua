-- window.lua: take one place in a sliding window, or say how long until one frees up.
-- Used in cluster mode for the per-IP send limit and the global budget, whose keys live
-- on their own slots and so cannot join send.lua; a refused send gives its place back
-- with ZREM (see README, "Scaling out").
-- KEYS[1] window zset
-- ARGV[1] now (ms)   ARGV[2] window (ms)   ARGV[3] limit   ARGV[4] member (the request id)
-- ARGV[5] the window's start (now - window)
-- returns {1} | {0, retryAfterMs}
--#include sliding-window.lua
local wait = windowFull(KEYS[1], tonumber(ARGV[1]), ARGV[5], tonumber(ARGV[2]), tonumber(ARGV[3]))
if wait then return { 0, wait } end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return { 1 }
