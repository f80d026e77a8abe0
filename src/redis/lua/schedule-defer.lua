--[[
  Overlap policy `queue`: parks a claimed tick until the schedule's previous run has finished.

  KEYS[1] queue    zset  tickMs -> tickMs (fired oldest first)
  KEYS[2] pending  zset  tickMs -> lease start

  ARGV[1] tick (ms), ARGV[2] most ticks kept waiting

  Returns the ticks dropped because the queue was full (oldest first; empty when none).
]]
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if extra <= 0 then return {} end
local dropped = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
return dropped
