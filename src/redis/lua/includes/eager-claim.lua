-- Eager dispatch (docs/internals.md, "Eager hand-off"): when a completion leaves exactly one
-- ready step and the completing worker said it can run that step, the step is claimed for that
-- worker here instead of going to its queue: it is `running` under a fresh fence token, attempt 1,
-- recorded like step-start.lua records a start, with a lease deadline `ld` that the worker renews
-- (step-lease.lua) while the step runs. The reconciler re-queues a step whose lease expired.
-- Used by step-complete.lua (its KEYS); needs the start-delivery include.
--
-- ARGV[9]  steps the worker may claim, csv ('' = no eager dispatch)
-- ARGV[10] fence token of the claimed delivery
-- ARGV[11] worker id
-- ARGV[12] lease deadline (ms)
-- ARGV[13] code version of the worker's pipeline ('' when unknown)
-- ARGV[14] '1' to return the run's fixed fields
-- ARGV[15..] the needs of each step in ARGV[9], csv, in the same order (the run's definitions hold
--          only upstream counts; the worker has the DAG)
--
-- Returns nil (nothing claimed: enqueue `ready` as usual) or the reply's claim part:
--   { step, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed, out1, out2, ... }
-- with the outputs of the step's needs in their declared order (fixed fields '' unless asked for).
local function eagerClaim(ready, runId, now, channel)
  if #ready ~= 1 or not ARGV[9] or ARGV[9] == '' then return nil end
  local step = ready[1]
  local needsCsv
  local candidate = 0
  for name in string.gmatch(ARGV[9], '[^,]+') do
    candidate = candidate + 1
    if name == step then needsCsv = ARGV[14 + candidate] or '' break end
  end
  if not needsCsv then return nil end
  local run = redis.call('HMGET', KEYS[1], 'status', 'failed', 'gen', 'pipeline', 'params', 'trigger', 'logicalTime', 'dagHash')
  if run[1] ~= 'running' then return nil end
  if not codeVersionAllows(KEYS[1], ARGV[13]) then return nil end
  local raw = redis.call('HGET', KEYS[8], step)
  local info = raw and cjson.decode(raw) or {}
  recordDelivery(info, tonumber(run[3] or '0'), 1, ARGV[10], ARGV[11], now, ARGV[13])
  info['ld'] = tonumber(ARGV[12])
  redis.call('HSET', KEYS[8], step, cjson.encode(info))
  redis.call('HSET', KEYS[3], step, 'r')
  redis.call('PUBLISH', channel, runId .. '|' .. step .. '|running')
  local fixed = ARGV[14] == '1'
  local claim = { step, run[1], fixed and run[4] or '', fixed and run[5] or '', fixed and run[6] or '', fixed and run[7] or '', fixed and run[8] or '', run[2] or '0' }
  local needs = {}
  for need in string.gmatch(needsCsv, '[^,]+') do needs[#needs + 1] = need end
  appendOutputs(KEYS[7], needs, claim)
  return claim
end
