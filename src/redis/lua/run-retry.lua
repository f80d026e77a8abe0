--[[
  Retries a failed or cancelled run from where it broke: every step that did not succeed (failed,
  cancelled, skipped by failure or by condition, never finished) goes back to pending and is decided
  again once its upstream ends; succeeded steps keep their outputs. Bumps the run's generation so
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
-- A reset step waits for its reset upstream steps: counted from the successor lists (a definition
-- holds how many upstream steps a step has, not which).
local resetUpstream = {}
for name, _ in pairs(reset) do
  local _, successors = stepDef(redis.call('HGET', KEYS[2], name) or '')
  for succ in string.gmatch(successors, '[^,]+') do
    if reset[succ] then resetUpstream[succ] = (resetUpstream[succ] or 0) + 1 end
  end
end
local ready = {}
for name, _ in pairs(reset) do
  local pend = resetUpstream[name] or 0
  -- Every upstream is now either reset (counted in pend; its new outcome is counted by step-complete
  -- when it ends) or succeeded, so the failed (`bad`) and condition-skipped (`cskip`) upstream counts
  -- of this generation start at 0. They used to keep the old generation's counts for `k` upstreams,
  -- which left a step downstream of a condition skip skipped for good.
  redis.call('HSET', KEYS[4], name, pend)
  redis.call('HSET', KEYS[5], name, 0)
  redis.call('HSET', KEYS[6], name, 0)
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
