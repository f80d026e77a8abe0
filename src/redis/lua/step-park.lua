--[[
  Parks a running step: the attempt ends without holding a worker slot and the step goes back to
  `queued` with its parked state; the caller adds a delayed job (id `<job id>.p<count>`) that resumes it.

  KEYS[1] st    hash  step -> status letter
  KEYS[2] info  hash  step -> attempt record JSON
  KEYS[3] run   hash

  ARGV[1] step, ARGV[2] fence token, ARGV[3] parked state JSON, ARGV[4] now (ms),
  ARGV[5] job id of the resuming job, ARGV[6] events channel

  Returns the park count (1 for the first park). Errors: -2 stale token, -3 cancelled, -4 not running.
]]
--- @include "running-attempt"
--- @include "requeue-step"
--- @include "attempt-history"
local info, code = runningAttempt(KEYS[1], KEYS[2], ARGV[1], ARGV[2], -4)
if not info then return code end
info['ps'] = cjson.decode(ARGV[3])
info['pc'] = (info['pc'] or 0) + 1
if not info['psince'] then info['psince'] = tonumber(ARGV[4]) end
info['pj'] = ARGV[5]
endAttempt(info, 'p', ARGV[4])
info['wq'] = nil -- the resume job goes to the step's own queue, not a version queue it may have come from
requeueStep(KEYS[1], KEYS[2], KEYS[3], ARGV[1], info, ARGV[4], ARGV[6], 'parked')
return info['pc']
