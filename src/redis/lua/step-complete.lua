--[[
  Records the final outcome of a step and advances the DAG, atomically: decrements the upstream
  counters of its successors, decides each successor whose upstream all finished (ready, or skipped
  by its runWhen rule — cascading), and finishes the run when no step is left.

  KEYS[1] run    hash    run record (remaining, failed, status, timestamps)
  KEYS[2] def    hash    step -> "<when>|<successors csv>|<upstream count>"; when is the trigger rule's
                         letter: s all-succeeded, d all-done, o one-succeeded, f one-failed,
                         n none-failed, m none-failed-min-one-succeeded, a all-failed, k all-skipped,
                         z none-skipped (see src/dsl/trigger-rules.ts)
  KEYS[3] st     hash    step -> p pending, q queued, r running, s succeeded, f failed,
                         k skipped by condition, x skipped by upstream failure, c cancelled,
                         m map step waiting for its instances (see step-map-expand.lua)
  KEYS[4] pend   hash    step -> unfinished upstream count (KEYS[4..6] are deleted when the run ends)
  KEYS[5] bad    hash    step -> upstream steps that failed or were skipped by failure
  KEYS[6] cskip  hash    step -> upstream steps skipped by condition
  KEYS[7] out    hash    step -> output JSON
  KEYS[8] info   hash    step -> attempt record, JSON or, once the step finished plainly, compact
                         (includes/step-info-codec.lua; sk: why a skipped step was skipped)
  KEYS[9] items  hash    map instance -> item JSON (read for the failed items of a partial map)
  KEYS[10] rdy   list    the fan-out list of the completed step's pool (includes/eager-claim.lua)
  KEYS[11] leases zset   step -> lease deadline of its claim (includes/eager-claim.lua)

  ARGV[1] step name
  ARGV[2] fence token of the delivery that ran it
  ARGV[3] outcome: s (succeeded), f (failed), k (skipped by its own condition)
  ARGV[4] payload: output JSON for s, error JSON for f, reason for k
  ARGV[5] now (ms)
  ARGV[6] events channel
  ARGV[7] '1' to skip the token check (the reconciler failing a step whose job died for good)
  ARGV[8] resource figures of the attempt, JSON { wallMs, cpuMs, rssBytes }, or '' (stored as given)
  ARGV[9..] eager dispatch: the steps this worker may claim (csv, all in KEYS[10]'s pool: the slot's
          own) and the claimed delivery's token,
          worker, lease deadline, code version, fixed-fields flag, then each offered step's needs
          (csv, same order); ARGV[10] '' or absent: this worker claims nothing

  Returns { 1 or 2, finalRunStatus or '', generation, listed, n, ready1 .. readyN, claim... }:
    ready steps are now `queued` and the caller enqueues them under deterministic job ids (which
    include the run's generation, returned here so the caller needs no extra read);
    listed: steps put on the fan-out list KEYS[10] (the caller adds pickup jobs for them, so other
    workers join in), or 1 when this worker claims nothing while that list still holds steps;
    with 2, the claim part of includes/eager-claim.lua follows: the first offered ready step, or
    else the next step of the fan-out list, is `running` for this worker under ARGV[10].
  Errors:
    -1  run does not exist
    -2  stale completion: the token is not the current delivery's (another worker took over)
    -3  run or step cancelled: result dropped
    -4  already recorded by this same delivery: idempotent repeat, nothing changed
    -5  step is not running (never started): refused
]]
--- @include "step-def"
--- @include "step-info-codec"
--- @include "attempt-history"
--- @include "start-delivery"
--- @include "write-behind"
--- @include "eager-claim"
local step, token, outcome, payload, now, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local force = ARGV[7] == '1'
local offering = ARGV[10] ~= nil and ARGV[10] ~= ''

-- The run record, read once with what a claim needs. Its counters change in locals below and go out
-- with the rest of the record in one HSET at the end.
local run = readRunForClaim(KEYS[1], { 'id', 'remaining', 'outcome' }, offering and ARGV[14] == '1')
local runStatus = run.status
if not runStatus then return -1 end
local runId = run.id
local remaining = tonumber(run.remaining or '0')
local failedCount = tonumber(run.failed or '0')
local failedCountChanged = false
-- Step statuses and records: written behind (includes/write-behind.lua), flushed before the end.
local statuses, records = writeBehind(KEYS[3]), writeBehind(KEYS[8])

local status = statuses.get(step)
local record = decodeStepInfo(records.get(step))
if not force and not isDelivery(record, token) then return -2 end
if status == 's' or status == 'f' or status == 'k' or status == 'x' then return -4 end
if status == 'c' or runStatus == 'cancelled' then return -3 end
-- A forced failure (the queue gave up on the job) only applies to a step still waiting or running:
-- never to a map step collecting its instances, whose own job has long finished its work.
if status ~= 'r' and not (force and status == 'q') then return -5 end

record['fa'] = tonumber(now)
-- An eager claim's lease ends with the step (the reconciler reads it only while the step runs).
if record['ld'] then redis.call('ZREM', KEYS[11], step) end
record['ld'] = nil
if ARGV[8] and ARGV[8] ~= '' then record['res'] = ARGV[8] end
if outcome == 's' then
  redis.call('HSET', KEYS[7], step, payload)
  record['e'] = nil
elseif outcome == 'f' then
  record['e'] = cjson.decode(payload)
  failedCount, failedCountChanged = failedCount + 1, true
else
  record['r'] = payload
  record['sk'] = 'condition'
end
records.set(step, encodeStepInfo(record))
statuses.set(step, outcome)
remaining = remaining - 1
redis.call('PUBLISH', channel, runId .. '|' .. step .. '|' .. outcome)

-- Trigger rules: the same table as decideTrigger in src/dsl/trigger-rules.ts. Returns nil while the
-- step must wait, 'q' to run it, or a skip letter ('x' when an upstream step failed, else 'k'), the
-- reason and the kind of skip. one-succeeded and one-failed fire on the first qualifying upstream.
local RULE_NAMES = { s = 'all-succeeded', d = 'all-done', o = 'one-succeeded', f = 'one-failed', n = 'none-failed',
  m = 'none-failed-min-one-succeeded', a = 'all-failed', k = 'all-skipped', z = 'none-skipped' }
local function decide(rule, total, left, bad, cskip)
  local ok = total - left - bad - cskip
  if rule == 'o' and ok > 0 then return 'q' end
  if rule == 'f' and bad > 0 then return 'q' end
  if left > 0 then return nil end
  local why
  if rule == 's' then
    if bad > 0 then why = 'an upstream step failed' elseif cskip > 0 then why = 'an upstream step was skipped' end
  elseif rule == 'o' then why = 'no upstream step succeeded'
  elseif rule == 'f' then why = 'no upstream step failed'
  elseif rule == 'n' then if bad > 0 then why = 'an upstream step failed' end
  elseif rule == 'm' then
    if bad > 0 then why = 'an upstream step failed' elseif ok == 0 then why = 'no upstream step succeeded' end
  elseif rule == 'a' then if bad < total then why = 'not every upstream step failed' end
  elseif rule == 'k' then if cskip < total then why = 'not every upstream step was skipped' end
  elseif rule == 'z' then if cskip > 0 then why = 'an upstream step was skipped' end
  end
  if not why then return 'q' end
  if rule ~= 's' then why = why .. ' (runWhen: ' .. RULE_NAMES[rule] .. ')' end
  if bad > 0 then return 'x', why, 'upstream-failed' end
  if rule == 's' or rule == 'z' then return 'k', why, 'upstream-skipped' end
  return 'k', why, 'trigger-rule'
end

-- A map step that reached minSuccess stores { succeeded = [outputs], failed = [{ index, item, error }] }.
local function partialMapOutput(succ, outs, failedIdx)
  local failed = {}
  for _, j in ipairs(failedIdx) do
    local inst = succ .. '[' .. j .. ']'
    local ie = decodeStepInfo(records.get(inst))['e'] or {}
    local item = redis.call('HGET', KEYS[9], inst) or 'null'
    failed[#failed + 1] = '{"index":' .. j .. ',"item":' .. item .. ',"error":' .. cjson.encode({ message = ie['message'] or 'failed', name = ie['name'] }) .. '}'
  end
  return '{"succeeded":[' .. table.concat(outs, ',') .. '],"failed":[' .. table.concat(failed, ',') .. ']}'
end

-- The run's outcome. Default (Airflow's rule): failed when a leaf step (no successors) failed or was
-- skipped because of a failure, so a failure a fallback handled leaves the run succeeded. With the
-- pipeline option runOutcome: 'any-failure' (run field outcome = 'any'): failed when any step failed.
local function runFailed()
  if run.outcome == 'any' then return failedCount > 0 end
  local defs = redis.call('HGETALL', KEYS[2])
  for i = 1, #defs, 2 do
    local _, successors = stepDef(defs[i + 1])
    if successors == '' then
      local s = statuses.get(defs[i])
      if s == 'f' or s == 'x' then return true end
    end
  end
  return false
end

-- Walk successors breadth-first; skipped successors are pushed back on the list so skips cascade.
local ready = {}
local work = { { step, outcome } }
local head = 1
while head <= #work do
  local name, result = work[head][1], work[head][2]
  head = head + 1
  local _, succCsv, _, kinds = stepDef(redis.call('HGET', KEYS[2], name) or '')
  local index = 0
  for succ in string.gmatch(succCsv, '[^,]+') do
    index = index + 1
    -- The successor's kind (includes/step-def.lua): its rule letter when `name` is its only upstream
    -- step, so it is decided here without its counters or its definition.
    local kind = string.sub(kinds, index, index)
    local onlyUpstream = kind ~= '' and kind ~= '+' and kind ~= '*'
    local succStatus = statuses.get(succ)
    -- A map step that an early rule started counts its instances in `pend`: a late upstream step
    -- of it must not touch that count.
    local lateUpstream = succStatus == 'm' and string.sub(name, 1, #succ + 1) ~= succ .. '['
    local left = 0
    if not lateUpstream and not onlyUpstream then
      left = redis.call('HINCRBY', KEYS[4], succ, -1)
      if result == 'f' or result == 'x' then redis.call('HINCRBY', KEYS[5], succ, 1) end
      if result == 'k' then redis.call('HINCRBY', KEYS[6], succ, 1) end
    end
    if lateUpstream then
      -- decided already
    elseif succStatus == 'm' then
      -- `name` is an instance of map step `succ`: start the next waiting instance, collect when all ended.
      local mi = cjson.decode(records.get(succ))
      local i = mi['mnext']
      while i < mi['mn'] do
        local inst = succ .. '[' .. i .. ']'
        i = i + 1
        if statuses.get(inst) == 'p' then
          statuses.set(inst, 'q')
          ready[#ready + 1] = inst
          break
        end
      end
      mi['mnext'] = i
      if left <= 0 then
        local outs, failedIdx = {}, {}
        for j = 0, mi['mn'] - 1 do
          local inst = succ .. '[' .. j .. ']'
          if statuses.get(inst) == 's' then
            outs[#outs + 1] = redis.call('HGET', KEYS[7], inst) or 'null'
          else
            failedIdx[#failedIdx + 1] = j
          end
        end
        local failedItems = #failedIdx
        local decision = 's'
        mi['fa'] = tonumber(now)
        -- mins: the map's minSuccess as a count of items (set when expanded); absent = every item.
        local partial = mi['mins'] ~= nil
        local collected
        if failedItems > 0 and (not partial or #outs < mi['mins']) then
          decision = 'f'
          local needed = partial and (' (minSuccess: ' .. mi['mins'] .. ')') or ''
          mi['e'] = { message = failedItems .. ' of ' .. mi['mn'] .. ' items failed' .. needed, name = 'MapItemsFailed' }
        else
          collected = partial and partialMapOutput(succ, outs, failedIdx) or ('[' .. table.concat(outs, ',') .. ']')
          -- The output limit (MAX_OUTPUT_BYTES in src/worker/output-check.ts) holds for what dependents receive too.
          if #collected > 1048576 then
            decision = 'f'
            mi['e'] = { message = 'map step "' .. succ .. '" collected ' .. #collected .. ' bytes of JSON from its items; the limit is 1048576 bytes',
              name = 'OutputTooLargeError', code = 'OUTPUT_TOO_LARGE' }
          end
        end
        if decision == 's' then
          redis.call('HSET', KEYS[7], succ, collected)
        else
          failedCount, failedCountChanged = failedCount + 1, true
        end
        statuses.set(succ, decision)
        remaining = remaining - 1
        redis.call('PUBLISH', channel, runId .. '|' .. succ .. '|' .. decision)
        work[#work + 1] = { succ, decision }
      end
      records.set(succ, cjson.encode(mi))
    elseif succStatus == 'p' then
      local decision, reason, skipKind
      if onlyUpstream then
        decision, reason, skipKind = decide(kind, 1, 0, (result == 'f' or result == 'x') and 1 or 0, result == 'k' and 1 or 0)
      elseif not (kind == '+' and left > 0) then
        local rule, _, total = stepDef(redis.call('HGET', KEYS[2], succ) or 's||0')
        -- Only the early-firing rules can decide before every upstream step finished.
        if left <= 0 or rule == 'o' or rule == 'f' then
          local bad = tonumber(redis.call('HGET', KEYS[5], succ) or '0')
          local cskip = tonumber(redis.call('HGET', KEYS[6], succ) or '0')
          decision, reason, skipKind = decide(rule, total, left, bad, cskip)
        end
      end
      if decision then statuses.set(succ, decision) end
      if decision == 'q' then
        ready[#ready + 1] = succ
      elseif decision then
        records.set(succ, cjson.encode({ r = reason, sk = skipKind, fa = tonumber(now) }))
        remaining = remaining - 1
        redis.call('PUBLISH', channel, runId .. '|' .. succ .. '|' .. decision)
        work[#work + 1] = { succ, decision }
      end
    end
  end
end

-- The run record's changes, in one write.
local final = ''
local runFields = { 'remaining', remaining, 'updatedAt', now }
if failedCountChanged then
  runFields[#runFields + 1] = 'failed'
  runFields[#runFields + 1] = failedCount
  run.failed = tostring(failedCount)
end
if remaining <= 0 then
  final = runFailed() and 'failed' or 'succeeded'
  runFields[#runFields + 1] = 'status'
  runFields[#runFields + 1] = final
  runFields[#runFields + 1] = 'finishedAt'
  runFields[#runFields + 1] = now
  -- Outbox: the run's follow-ups (onSucceeded triggers) are owed from the same instant it ends, so a
  -- crash right after this script cannot lose them (delivered by app/outbox.ts).
  if final == 'succeeded' then
    runFields[#runFields + 1] = 'outbox'
    runFields[#runFields + 1] = 'owed'
  end
  -- The upstream counters only serve a running run (run-retry.lua sets them afresh for what it resets).
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
end
redis.call('HSET', KEYS[1], unpack(runFields))

-- Eager dispatch (includes/eager-claim.lua): the first ready step this worker offered to run goes
-- straight to it; the other offered ones in its pool go on the fan-out list instead of the queue.
-- With none ready, the worker takes the list's next step: a fan-out runs as chains of claims.
local listed, claim = 0, nil
if final == '' then
  if offering then
    local k = { run = KEYS[1], st = statuses, out = KEYS[7], info = records, leases = KEYS[11] }
    local offer = { token = ARGV[10], worker = ARGV[11], leaseDeadline = ARGV[12], codeVersion = ARGV[13], withFixed = ARGV[14] }
    local ctx = { runId = runId, now = now, channel = channel, run = run }
    local candidates, i = {}, 0
    for name in string.gmatch(ARGV[9], '[^,]+') do
      i = i + 1
      candidates[name] = ARGV[14 + i] or ''
    end
    local offered, rest = {}, {}
    for _, s in ipairs(ready) do
      if candidates[s] then offered[#offered + 1] = s else rest[#rest + 1] = s end
    end
    if #offered > 0 then
      claim = claimStep(k, offer, offered[1], candidates[offered[1]], ctx)
      if claim then
        local entries = {}
        for j = 2, #offered do entries[#entries + 1] = offered[j] .. '|' .. candidates[offered[j]] end
        listed = #entries
        if listed > 0 then
          rpushAll(KEYS[10], entries)
          redis.call('PEXPIRE', KEYS[10], FANOUT_LIST_TTL_MS)
        end
        ready = rest
      end
    else
      claim = claimListed(k, KEYS[10], offer, ctx)
    end
  elseif redis.call('EXISTS', KEYS[10]) == 1 then
    -- This worker takes no more steps (draining, or eager dispatch off): a pickup job takes over.
    listed = 1
  end
else
  redis.call('DEL', KEYS[10], KEYS[11])
end
statuses.flush()
records.flush()
if final ~= '' then
  -- After the flush: the run's records are final only now.
  repackStepInfos(KEYS[8])
  redis.call('PUBLISH', channel, runId .. '||' .. final)
end

local reply = { claim and 2 or 1, final, run.gen or '0', listed, #ready }
for i = 1, #ready do reply[#reply + 1] = ready[i] end
if claim then
  for i = 1, #claim do reply[#reply + 1] = claim[i] end
end
return reply
