--[[
  Moves a schedule's cursor (every tick at or before it is handled) by compare-and-set, so that of
  several instances that planned from the same cursor exactly one reports the dropped ticks.

  KEYS[1] cursor  string  tick ms

  ARGV[1] expected current value ('' = no cursor yet), ARGV[2] new value (ms)

  Returns 1 when moved, 0 when the cursor was not the expected one or would move backwards.
]]
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if current and tonumber(ARGV[2]) <= tonumber(current) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
