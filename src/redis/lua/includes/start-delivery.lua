-- A new delivery of a step starts: shared by step-start.lua (a worker took the step's job) and
-- eager-claim.lua (a completion claimed the step for its worker). Needs the attempt-history include.

-- Code version: a run triggered without one is pinned by the first worker that starts a step (the
-- version it started with); a pinned run starts steps only where its exact version is. False when
-- `codeVersion` may not start steps of this run. `versioning` and `pinned` are the run's fields of
-- those names, read by the caller with the rest of the run record.
local function codeVersionAllows(runKey, codeVersion, versioning, pinned)
  if codeVersion == '' then return true end
  local version = { versioning, pinned }
  if not version[2] or version[2] == '' then
    redis.call('HSET', runKey, 'codeVersion', codeVersion)
  elseif version[1] == 'pinned' and version[2] ~= codeVersion then
    return false
  end
  return true
end

-- Archives the previous delivery and describes this one in the step's record (not yet stored).
local function recordDelivery(info, gen, attempt, token, worker, now, codeVersion)
  archiveAttempt(info)
  info['g'] = gen > 0 and gen or nil
  info['a'] = attempt
  info['d'] = (info['d'] or 0) + 1
  info['t'] = token
  info['w'] = worker
  info['sa'] = tonumber(now)
  if codeVersion ~= '' then info['cv'] = codeVersion end
  -- No longer waiting for a worker (the version queue and job id stay: the reconciler looks there).
  info['wf'] = nil
  info['ws'] = nil
  info['wd'] = nil
  if not info['fs'] then info['fs'] = tonumber(now) end
end

-- Appends the outputs of `needs` (step names) to `reply`, '' for a step without one. HMGET in
-- chunks: Lua's unpack() fails beyond a few thousand values (a join after a 10,000-step fan-out).
local function appendOutputs(outKey, needs, reply)
  local chunk = {}
  for i = 1, #needs do
    chunk[#chunk + 1] = needs[i]
    if #chunk == 1000 or i == #needs then
      local outs = redis.call('HMGET', outKey, unpack(chunk))
      for j = 1, #outs do reply[#reply + 1] = outs[j] or '' end
      chunk = {}
    end
  end
end
