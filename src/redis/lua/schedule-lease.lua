--[[
  Takes over pending ticks whose lease ran out: claimed (or dequeued) but never recorded as launched,
  because the instance that claimed them died or its launcher failed. Each is leased anew to the caller.

  KEYS[1] pending  zset  tickMs -> lease start (ms)

  ARGV[1] now (ms), ARGV[2] lease (ms), ARGV[3] max ticks

  Returns the ticks (ms, as strings) now leased to the caller, oldest first.
]]
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))
for _, tick in ipairs(stale) do
  redis.call('ZADD', KEYS[1], ARGV[1], tick)
end
table.sort(stale, function(a, b) return tonumber(a) < tonumber(b) end)
return stale
