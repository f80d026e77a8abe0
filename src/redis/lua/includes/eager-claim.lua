-- Eager dispatch (docs/internals.md, "Eager hand-off"): a step that became ready is claimed for the
-- worker that made it ready (or that took a pickup job of the run's fan-out list) instead of going to
-- its queue: it is `running` under a fresh fence token, attempt 1, recorded like step-start.lua
-- records a start, with a lease deadline `ld` that the worker renews (step-lease.lua) while the step
-- runs. The reconciler re-queues a step whose lease expired. Needs the start-delivery include.
--
-- `k`: the run's keys { run, st, out, info, leases }; `offer`: the claiming worker's
--   { token, worker, leaseDeadline, codeVersion, withFixed ('1' to return the run's fixed fields) }.
-- Returns nil (nothing claimed) or the reply's claim part:
--   { step, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed, out1, out2, ... }
-- with the outputs of `needsCsv` (the step's needs, in declared order; the worker has the DAG).
local function claimStep(k, offer, step, needsCsv, runId, now, channel, raw)
  local fixed = offer.withFixed == '1'
  -- The fixed fields (params can be large) only when the worker has not cached them.
  local run = fixed and redis.call('HMGET', k.run, 'status', 'failed', 'gen', 'versioning', 'codeVersion', 'pipeline', 'params', 'trigger', 'logicalTime', 'dagHash')
    or redis.call('HMGET', k.run, 'status', 'failed', 'gen', 'versioning', 'codeVersion')
  if run[1] ~= 'running' then return nil end
  if not codeVersionAllows(k.run, offer.codeVersion, run[4], run[5]) then return nil end
  -- `raw`: the step's record when the caller read it already (false: read, and there is none).
  if raw == nil then raw = redis.call('HGET', k.info, step) end
  local info = raw and cjson.decode(raw) or {}
  recordDelivery(info, tonumber(run[3] or '0'), 1, offer.token, offer.worker, now, offer.codeVersion)
  info['ld'] = tonumber(offer.leaseDeadline)
  redis.call('HSET', k.info, step, cjson.encode(info))
  -- The run's leases by deadline: the reconciler finds an expired one while the run's other steps
  -- go on (a dead worker's claim in a fan-out), not only once the run went idle.
  redis.call('ZADD', k.leases, offer.leaseDeadline, step)
  redis.call('HSET', k.st, step, 'r')
  redis.call('PUBLISH', channel, runId .. '|' .. step .. '|running')
  local claim = { step, run[1], fixed and run[6] or '', fixed and run[7] or '', fixed and run[8] or '', fixed and run[9] or '', fixed and run[10] or '', run[2] or '0' }
  local needs = {}
  for need in string.gmatch(needsCsv, '[^,]+') do needs[#needs + 1] = need end
  appendOutputs(k.out, needs, claim)
  return claim
end

-- The fan-out list (KEYS `rdy`, per run and pool): ready steps a completion could not claim all at
-- once wait here as "<step>|<needs csv>", oldest first, instead of one queue job each. Each completion
-- in that pool and each pickup job claims the next entry; entries whose step is no longer queued
-- (cancelled, or started through a job the reconciler added) are dropped on the way. The list only
-- spares queue jobs: a queued step without a job or entry is re-queued by the reconciler, so the
-- list's expiry (FANOUT_LIST_TTL_MS after the last step was listed) never loses a step.
local FANOUT_LIST_TTL_MS = 86400000

-- An entry is only good for a step that has not started in the run's current generation: one that
-- did (the reconciler's copy job of a listed step started it) and is `queued` again waits for a job
-- of its own — a retry's backoff, a parked step's resume, a hand-back — which the entry would bypass,
-- starting it at once as attempt 1 (no backoff, attempts counted anew, a parked state lost). Entries
-- a cancelled generation left (run-retry keeps the list) are good for steps the new one never started.
-- Returns the step's record text too (claimStep reads it anyway).
local function startedInGeneration(infoKey, step, gen)
  local raw = redis.call('HGET', infoKey, step)
  if not raw then return false, false end
  local info = cjson.decode(raw)
  return info['sa'] ~= nil and (info['g'] or 0) == gen, raw
end

-- `runStatus`, `gen`: the run's status and generation as the caller read them (only a running run's
-- steps are claimed).
local function claimListed(k, rdy, offer, runId, now, channel, runStatus, gen)
  if runStatus ~= 'running' then return nil end
  while true do
    local entry = redis.call('LPOP', rdy)
    if not entry then return nil end
    local sep = string.find(entry, '|', 1, true)
    local step = string.sub(entry, 1, sep - 1)
    local started, raw = false, nil
    local queued = redis.call('HGET', k.st, step) == 'q'
    if queued then started, raw = startedInGeneration(k.info, step, gen) end
    if queued and not started then
      local claim = claimStep(k, offer, step, string.sub(entry, sep + 1), runId, now, channel, raw)
      -- Not claimable here (a pinned run's other code version): the entry goes back for another worker.
      if not claim then redis.call('LPUSH', rdy, entry) end
      return claim
    end
  end
end
