--[[
  Records that a tick's run was launched: drops the tick from `pending` and, when it is the newest
  tick fired so far, remembers it and its run id (the run the overlap policy looks at).

  KEYS[1] pending  zset  tickMs -> lease start
  KEYS[2] last     hash  tick, runId, firedAt

  ARGV[1] tick (ms), ARGV[2] run id, ARGV[3] now (ms)

  Returns 1 when the tick became the last fired one, 0 when a newer tick was already recorded.
]]
redis.call('ZREM', KEYS[1], ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[2], 'tick') or '-1')
if tonumber(ARGV[1]) < last then return 0 end
redis.call('HSET', KEYS[2], 'tick', ARGV[1], 'runId', ARGV[2], 'firedAt', ARGV[3])
return 1
