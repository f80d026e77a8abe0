--[[
  A worker was handed a step it cannot run (no code for the pipeline, or another version): the step
  stays `queued` and waits, visibly, for a worker that has its code. Its job moves to a version queue;
  this records where, so the reconciler can find it and `noWorkerTimeout` can end the wait.
  No attempt is counted and no worker is recorded: the step never started.

  KEYS[1] st    hash  step -> status letter
  KEYS[2] info  hash  step -> attempt record JSON
  KEYS[3] run   hash

  ARGV[1] step, ARGV[2] what it waits for ("my-etl@<version>"), ARGV[3] now (ms),
  ARGV[4] version queue, ARGV[5] job id there, ARGV[6] noWorkerTimeout (ms, 0 = none), ARGV[7] events channel

  Returns 1. Errors: -3 cancelled, -4 the step is not queued (running elsewhere or finished: drop the job).
]]
local status = redis.call('HGET', KEYS[1], ARGV[1])
if status == 'c' then return -3 end
if status ~= 'q' then return -4 end
local info = cjson.decode(redis.call('HGET', KEYS[2], ARGV[1]) or '{}')
info['wf'] = ARGV[2]
-- A step bounced again (a route's worker left) keeps waiting since its first wait.
if not info['ws'] then info['ws'] = tonumber(ARGV[3]) end
local timeout = tonumber(ARGV[6])
if timeout > 0 then info['wd'] = info['ws'] + timeout else info['wd'] = nil end
info['wq'] = ARGV[4]
info['pj'] = ARGV[5]
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(info))
redis.call('PUBLISH', ARGV[7], redis.call('HGET', KEYS[3], 'id') .. '|' .. ARGV[1] .. '|waiting')
return 1
