--[[
  Retries a failed or cancelled run from where it broke: every step that did not succeed (failed,
  cancelled, skipped by failure or by condition, never finished) goes back to pending and is decided
  again once its upstream ends; succeeded steps keep their outputs, and a step skipped by its runWhen
  rule whose upstream steps all keep their outcome keeps its skip (it would be decided the same). Bumps the run's generation so
  re-enqueued jobs get fresh ids.

  KEYS[1] run, KEYS[2] def, KEYS[3] st, KEYS[4] pend, KEYS[5] bad, KEYS[6] cskip, KEYS[7] info

  ARGV[1] now (ms), ARGV[2] events channel

  Returns { 1, generation, ready1, ready2, ... }.
  Errors: -1 run does not exist, -7 run is not failed or cancelled.
]]
--- @include "step-def"
--- @include "attempt-history"
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= 'failed' and status ~= 'cancelled' then return -7 end

local all = redis.call('HGETALL', KEYS[3])
local reset, resetCount = {}, 0
local all_status = {}
for i = 1, #all, 2 do
  local s = all[i + 1]
  -- Map instances (`name[i]`) are not reset here: re-running their map step re-expands them,
  -- keeping the instances that succeeded.
  local isInstance = string.find(all[i], '[', 1, true) ~= nil
  if isInstance then
    if s == 'c' then redis.call('HSET', KEYS[3], all[i], 'f') end
  elseif s ~= 's' then
    all_status[all[i]] = s
    -- Condition skips (`k`) too: their condition or runWhen rule read an upstream that may now succeed.
    reset[all[i]] = true
    resetCount = resetCount + 1
  end
end
-- Successor lists of every step (a definition holds how many upstream steps a step has, not which).
local successorsOf = {}
local defs = redis.call('HGETALL', KEYS[2])
for i = 1, #defs, 2 do
  if not string.find(defs[i], '[', 1, true) then
    local _, successors = stepDef(defs[i + 1])
    successorsOf[defs[i]] = successors
  end
end
-- Calls fn(succ) for each successor of `name` that is reset.
local function eachResetSuccessor(name, fn)
  for succ in string.gmatch(successorsOf[name] or '', '[^,]+') do
    if reset[succ] then fn(succ) end
  end
end
-- A reset step waits for its reset upstream steps.
local resetUpstream = {}
for name, _ in pairs(reset) do
  eachResetSuccessor(name, function(succ) resetUpstream[succ] = (resetUpstream[succ] or 0) + 1 end)
end
-- A step its runWhen rule skipped (not its own condition) whose upstream steps all keep their
-- outcome would be decided the same again: it keeps its skip. Reset, it had nothing to wait for and
-- was queued without its rule (a one-failed step ran after a retry in which nothing failed). Kept
-- skips release their successors in turn (a skip cascading from a kept one is kept too): a worklist,
-- so each step's record is read once.
local keepable, keeping = {}, {}
for name, _ in pairs(reset) do
  if all_status[name] == 'k' then
    local raw = redis.call('HGET', KEYS[7], name)
    local sk = raw and string.sub(raw, 1, 1) == '{' and cjson.decode(raw)['sk'] or nil
    if sk == 'trigger-rule' or sk == 'upstream-skipped' then
      keepable[name] = true
      if (resetUpstream[name] or 0) == 0 then keeping[#keeping + 1] = name end
    end
  end
end
local kept = {}
local head = 1
while head <= #keeping do
  local name = keeping[head]
  head = head + 1
  reset[name] = nil
  kept[name] = true
  resetCount = resetCount - 1
  eachResetSuccessor(name, function(succ)
    resetUpstream[succ] = resetUpstream[succ] - 1
    if resetUpstream[succ] == 0 and keepable[succ] then keeping[#keeping + 1] = succ end
  end)
end
-- A kept skip counts as a skipped upstream step of the reset steps after it (cskip).
local keptSkips = {}
for name, _ in pairs(kept) do
  eachResetSuccessor(name, function(succ) keptSkips[succ] = (keptSkips[succ] or 0) + 1 end)
end
local ready = {}
for name, _ in pairs(reset) do
  local pend = resetUpstream[name] or 0
  -- Every upstream is now reset (counted in pend; its new outcome is counted by step-complete when
  -- it ends), succeeded, or a kept rule skip (counted in cskip), so no failed (`bad`) upstream is
  -- left. Condition skips are reset, not counted: keeping the old generation's count for them left a
  -- step downstream of a condition skip skipped for good.
  redis.call('HSET', KEYS[4], name, pend)
  redis.call('HSET', KEYS[5], name, 0)
  redis.call('HSET', KEYS[6], name, keptSkips[name] or 0)
  local raw = redis.call('HGET', KEYS[7], name)
  local info = raw and cjson.decode(raw) or {}
  -- The latest delivery of the old generation ended with the step's old letter (if it ever started).
  if info['sa'] and not info['o'] then endAttempt(info, all_status[name], ARGV[1]) end
  info['prev'] = info['e']
  info['e'] = nil
  info['r'] = nil
  info['fa'] = nil
  info['t'] = nil
  -- A fresh generation starts unparked: the old resume job id must not be re-added by the reconciler.
  info['pj'] = nil
  info['ps'] = nil
  info['pc'] = nil
  info['psince'] = nil
  redis.call('HSET', KEYS[7], name, cjson.encode(info))
  if pend == 0 then
    redis.call('HSET', KEYS[3], name, 'q')
    ready[#ready + 1] = name
  else
    redis.call('HSET', KEYS[3], name, 'p')
  end
end
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'remaining', resetCount, 'failed', 0, 'updatedAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'finishedAt', 'cancelledBy')
redis.call('PUBLISH', ARGV[2], redis.call('HGET', KEYS[1], 'id') .. '||running')
local reply = { 1, gen }
for i = 1, #ready do reply[#reply + 1] = ready[i] end
return reply
