-- How far a request's status record has come. A status only moves forward, and nothing
-- leaves a final one (rank 3: the delivery ended; rank 4: the check ended).
local RANK = { queued = 0, sending = 1, retrying = 1, sent = 2,
  failed = 3, delivered = 3, undelivered = 3,
  verified = 4, burnt = 4, superseded = 4, expired = 4 }
