-- Eager dispatch (docs/internals.md, "Eager hand-off"): a step that became ready is claimed for the
-- worker that made it ready (or that took a pickup job of the run's fan-out list) instead of going to
-- its queue: it is `running` under a fresh fence token, attempt 1, recorded like step-start.lua
-- records a start, with a lease deadline `ld` that the worker renews (step-lease.lua) while the step
-- runs. The reconciler re-queues a step whose lease expired. Needs the start-delivery and
-- write-behind includes.

-- The run record's fields a claim reads, and the fixed ones (params can be large) it returns only to
-- a worker that has not cached them.
local CLAIM_RUN_FIELDS = { 'status', 'failed', 'gen', 'versioning', 'codeVersion' }
local CLAIM_FIXED_FIELDS = { 'pipeline', 'params', 'trigger', 'logicalTime', 'dagHash' }

-- The run record's `fields` and those a claim reads (with the fixed ones when `withFixed`), in one
-- HMGET: a table by field name, false for a field the record lacks.
local function readRunForClaim(runKey, fields, withFixed)
  local names = {}
  for _, f in ipairs(fields) do names[#names + 1] = f end
  for _, f in ipairs(CLAIM_RUN_FIELDS) do names[#names + 1] = f end
  if withFixed then
    for _, f in ipairs(CLAIM_FIXED_FIELDS) do names[#names + 1] = f end
  end
  local values = redis.call('HMGET', runKey, unpack(names))
  local run = {}
  for i = 1, #names do run[names[i]] = values[i] end
  return run
end

-- `k`: the run's keys { run, out, leases } and write-behind views { st, info } of its status and
--   record hashes (the caller flushes them);
-- `offer`: the claiming worker's { token, worker, leaseDeadline, codeVersion, withFixed ('1' to
--   return the run's fixed fields) };
-- `ctx`: { runId, now, channel, run } where run is readRunForClaim's table as it stands now (the
--   caller keeps `failed` current), and `raw`, the step's record when the caller read it already
--   (false: there is none; nil: read it).
-- Returns nil (nothing claimed) or the reply's claim part:
--   { step, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed, out1, out2, ... }
-- with the outputs of `needsCsv` (the step's needs, in declared order; the worker has the DAG).
local function claimStep(k, offer, step, needsCsv, ctx)
  local run = ctx.run
  if run.status ~= 'running' then return nil end
  if not codeVersionAllows(k.run, offer.codeVersion, run.versioning, run.codeVersion) then return nil end
  if offer.codeVersion ~= '' and (not run.codeVersion or run.codeVersion == '') then run.codeVersion = offer.codeVersion end
  local raw = ctx.raw
  if raw == nil then raw = k.info.get(step) end
  local info = raw and cjson.decode(raw) or {}
  recordDelivery(info, tonumber(run.gen or '0'), 1, offer.token, offer.worker, ctx.now, offer.codeVersion)
  info['ld'] = tonumber(offer.leaseDeadline)
  k.info.set(step, cjson.encode(info))
  -- The run's leases by deadline: the reconciler finds an expired one while the run's other steps
  -- go on (a dead worker's claim in a fan-out), not only once the run went idle.
  redis.call('ZADD', k.leases, offer.leaseDeadline, step)
  k.st.set(step, 'r')
  redis.call('PUBLISH', ctx.channel, ctx.runId .. '|' .. step .. '|running')
  local fixed = offer.withFixed == '1'
  local claim = { step, run.status, fixed and run.pipeline or '', fixed and run.params or '', fixed and run.trigger or '',
    fixed and run.logicalTime or '', fixed and run.dagHash or '', run.failed or '0' }
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
local function startedInGeneration(info, step, gen)
  local raw = info.get(step)
  if not raw then return false, false end
  local record = cjson.decode(raw)
  return record['sa'] ~= nil and (record['g'] or 0) == gen, raw
end

-- Claims the list's next claimable entry (see claimStep for `k`, `offer` and `ctx`; only a running
-- run's steps are claimed).
local function claimListed(k, rdy, offer, ctx)
  if ctx.run.status ~= 'running' then return nil end
  local gen = tonumber(ctx.run.gen or '0')
  while true do
    local entry = redis.call('LPOP', rdy)
    if not entry then return nil end
    local sep = string.find(entry, '|', 1, true)
    local step = string.sub(entry, 1, sep - 1)
    local started, raw = false, nil
    local queued = k.st.get(step) == 'q'
    if queued then started, raw = startedInGeneration(k.info, step, gen) end
    if queued and not started then
      ctx.raw = raw
      local claim = claimStep(k, offer, step, string.sub(entry, sep + 1), ctx)
      -- Not claimable here (a pinned run's other code version): the entry goes back for another worker.
      if not claim then redis.call('LPUSH', rdy, entry) end
      return claim
    end
  end
end
