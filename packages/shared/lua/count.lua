-- count.lua: the general per-IP request limit for the send routes in cluster mode, where its
-- counter lives on its own slot (standalone, send.lua counts it itself).
-- KEYS[1] counter
-- ARGV[1] limit   ARGV[2] window (ms)
-- returns {1} | {0, retryAfterMs}
--#include count-request.lua
local wait = countRequest(KEYS[1], ARGV[1], ARGV[2])
if wait then return { 0, wait } end
return { 1 }
