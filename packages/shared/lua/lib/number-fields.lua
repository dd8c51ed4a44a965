-- The fields of a number's hash (keys.ts keys.number; keys.ts numberFields spells the same
-- names for the TypeScript side):
--   carrierUntil              the carrier refuses this number until then (ms; dead-letter.lua)
--   sends                     accepted sends inside the daily window (lib/recent-times.lua)
--   <purpose>:resendAt        the resend cooldown ends then (ms)
--   <purpose>:hmac, :id, :client, :requesterTries, :otherTries, :expiresAt
--                             the live code: its HMAC, request id, requester's client key, wrong
--                             tries of the requester / of everyone else, and when it stops working
local CARRIER_UNTIL, SENDS = 'carrierUntil', 'sends'
local function purposeFields(purpose)
  return {
    resendAt = purpose .. ':resendAt', hmac = purpose .. ':hmac', id = purpose .. ':id', client = purpose .. ':client',
    requesterTries = purpose .. ':requesterTries', otherTries = purpose .. ':otherTries', expiresAt = purpose .. ':expiresAt',
  }
end
