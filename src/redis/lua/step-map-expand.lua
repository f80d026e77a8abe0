--[[
  Expands a running map step into one instance per item, `<step>[0]` … `<step>[n-1]`. The map step
  itself becomes the collector (status letter `m`): the completion script schedules further instances
  as earlier ones finish (maxParallel) and, when the last finishes, stores the outputs as a JSON
  array in item order (or fails the map step if any instance failed) and advances the DAG.
  Instances that already succeeded (a retried run) are kept and not run again.

  KEYS[1] run, KEYS[2] def, KEYS[3] st, KEYS[4] pend, KEYS[5] info, KEYS[6] items, KEYS[7] out

  ARGV[1] map step name
  ARGV[2] fence token of the delivery that evaluated `over`
  ARGV[3] now (ms)
  ARGV[4] events channel
  ARGV[5] maxParallel (0 = no limit)
  ARGV[6] minSuccess as a count of items, or '' when every item must succeed (a partial map's
          output is { succeeded, failed }, collected by step-complete.lua)
  ARGV[7..] one JSON item per instance, in order

  Returns { 1, ready1, ready2, ... } (instances now `queued`), or { 2, outputsJson } when every
  instance had already succeeded (the caller completes the map step with that output).
  Errors: -2 stale token, -3 cancelled, -5 not running.
]]
local step, token, now, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local maxParallel = tonumber(ARGV[5])
local minSuccess = tonumber(ARGV[6])
local FIRST_ITEM = 7
--- @include "running-attempt"
local info, code = runningAttempt(KEYS[3], KEYS[5], step, token, -5)
if not info then return code end

local n = #ARGV - FIRST_ITEM + 1
local todo = {}
local outs = {}
for i = 0, n - 1 do
  local name = step .. '[' .. i .. ']'
  local s = redis.call('HGET', KEYS[3], name)
  if s == 's' then
    outs[#outs + 1] = redis.call('HGET', KEYS[7], name) or 'null'
  else
    todo[#todo + 1] = name
    redis.call('HSET', KEYS[3], name, 'p')
    redis.call('HSET', KEYS[2], name, 'd|' .. step .. '|0')
    redis.call('HSET', KEYS[6], name, ARGV[FIRST_ITEM + i])
    redis.call('HDEL', KEYS[5], name)
  end
end
if #todo == 0 then
  local all = '[' .. table.concat(outs, ',') .. ']'
  if minSuccess then all = '{"succeeded":' .. all .. ',"failed":[]}' end
  return { 2, all }
end

local limit = (maxParallel and maxParallel > 0) and math.min(maxParallel, #todo) or #todo
local ready = {}
for i = 1, limit do
  redis.call('HSET', KEYS[3], todo[i], 'q')
  ready[#ready + 1] = todo[i]
end
info['mn'] = n
info['mnext'] = 0
info['mins'] = minSuccess
redis.call('HSET', KEYS[5], step, cjson.encode(info))
redis.call('HSET', KEYS[4], step, #todo)
redis.call('HSET', KEYS[3], step, 'm')
redis.call('HINCRBY', KEYS[1], 'remaining', #todo)
redis.call('HSET', KEYS[1], 'updatedAt', now)
redis.call('PUBLISH', channel, redis.call('HGET', KEYS[1], 'id') .. '|' .. step .. '|mapped')
local reply = { 1 }
for i = 1, #ready do reply[#reply + 1] = ready[i] end
return reply
