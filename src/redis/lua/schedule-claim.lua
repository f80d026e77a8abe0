--[[
  Claims one tick of one schedule for exactly one scheduler instance, and records the intent to launch
  it, in one step: a scheduler killed right after claiming leaves the tick in `pending`, where any
  instance picks it up once the lease runs out (the run id is deterministic, so a repeat is a no-op).

  KEYS[1] claim    string  P:{P-g}:sched:claim:<pipeline>:<schedule>:<tickMs>
  KEYS[2] pending  zset    tickMs -> lease start (ms)

  ARGV[1] tick (ms), ARGV[2] now (ms), ARGV[3] claim ttl (ms)

  Returns 1 when this caller won the tick, 0 when it was already claimed.
]]
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  return 1
end
return 0
