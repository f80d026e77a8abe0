--[[
  Registers a run as a user of a pipeline version's DAG snapshot, stored once per version under the
  DAG's content hash. While any run uses it, the snapshot has no expiry.
  Idempotent (set membership): a repeated trigger or retry changes nothing.

  KEYS[1] dag      string  DAG snapshot JSON (content-addressed by its hash)
  KEYS[2] users    set     ids of the unfinished runs that use it

  ARGV[1] run id
  ARGV[2] DAG snapshot JSON, or '' when the caller has none (a retry): then a missing snapshot stays missing

  Returns 1 when the run was not a user yet, 0 when it was.
]]
local added = redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PERSIST', KEYS[1])
elseif ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2])
end
return added
