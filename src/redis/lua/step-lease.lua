--[[
  Renews the lease of an eagerly claimed step (see includes/eager-claim.lua) while its worker runs it,
  as BullMQ renews a job's lock: the reconciler re-queues a running step whose lease deadline passed.
  Only the delivery that holds the step (its fence token) may renew.

  KEYS[1] st    hash  step -> status letter
  KEYS[2] info  hash  step -> attempt record JSON
  KEYS[3] leases zset step -> lease deadline (includes/eager-claim.lua)

  ARGV[1] step, ARGV[2] fence token, ARGV[3] new lease deadline (ms)

  Returns 1. Errors: -2 stale token (another delivery owns the step), -3 cancelled, -4 step not running.
]]
--- @include "running-attempt"
local info, code = runningAttempt(KEYS[1], KEYS[2], ARGV[1], ARGV[2], -4)
if not info then return code end
info['ld'] = tonumber(ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(info))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1
