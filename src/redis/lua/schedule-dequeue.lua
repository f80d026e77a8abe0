--[[
  Overlap policy `queue`: takes the oldest parked tick and leases it in `pending` in the same step,
  so an instance killed before launching it leaves it for another to recover.

  KEYS[1] queue    zset  tickMs -> tickMs
  KEYS[2] pending  zset  tickMs -> lease start

  ARGV[1] now (ms)

  Returns the tick (ms, as a string), or false when nothing waits.
]]
local popped = redis.call('ZPOPMIN', KEYS[1], 1)
if #popped == 0 then return false end
redis.call('ZADD', KEYS[2], ARGV[1], popped[1])
return popped[1]
