--[[
  Records a failed attempt that will be retried (by the queue's backoff): the step goes back to
  `queued` with the error kept for display. Only the current delivery may do this.
  With ARGV[7] = 'h' it is a hand-back instead (worker shutdown): the step goes back to `queued`
  with no error and no attempt counted; ARGV[3] is then the reason text, ARGV[5] unused.

  KEYS[1] st    hash  step -> status letter
  KEYS[2] info  hash  step -> attempt record JSON
  KEYS[3] run   hash

  ARGV[1] step, ARGV[2] fence token, ARGV[3] error JSON, ARGV[4] now (ms), ARGV[5] retry at (ms),
  ARGV[6] events channel, ARGV[7] 'h' for a hand-back, else absent

  Returns 1. Errors: -2 stale token, -3 cancelled, -4 step already finished.
]]
--- @include "running-attempt"
--- @include "requeue-step"
--- @include "attempt-history"
local info, code = runningAttempt(KEYS[1], KEYS[2], ARGV[1], ARGV[2], -4)
if not info then return code end
local event = 'retrying'
if ARGV[7] == 'h' then
  info['hb'] = (info['hb'] or 0) + 1
  info['hw'] = ARGV[3]
  event = 'handed-back'
  endAttempt(info, 'h', ARGV[4])
else
  info['e'] = cjson.decode(ARGV[3])
  info['ra'] = tonumber(ARGV[5])
  info['n'] = (info['n'] or 0) + 1
  endAttempt(info, 'r', ARGV[4])
end
requeueStep(KEYS[1], KEYS[2], KEYS[3], ARGV[1], info, ARGV[4], ARGV[6], event)
return 1
