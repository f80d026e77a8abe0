--[[
  A run that used a DAG snapshot finished: once no unfinished run uses the snapshot, it expires with
  the finished runs' keys. The expiry only ever grows, so the snapshot outlives every run that was
  expired with a longer retention. Idempotent.

  KEYS[1] dag      string  DAG snapshot JSON
  KEYS[2] users    set     ids of the unfinished runs that use it

  ARGV[1] run id
  ARGV[2] retention, ms

  Returns the number of unfinished runs still using the snapshot.
]]
redis.call('SREM', KEYS[2], ARGV[1])
local users = redis.call('SCARD', KEYS[2])
if users > 0 then return users end
local retention = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 or (ttl >= 0 and ttl < retention) then redis.call('PEXPIRE', KEYS[1], retention) end
return 0
