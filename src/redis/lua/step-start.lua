--[[
  A worker was handed the job of a step: mark the step running under a fresh fence token and return
  what the handler needs. The token makes later completions from an older delivery (a worker that
  lost its lock, a paused process) detectable: only the newest delivery may complete the step.

  KEYS[1] run    hash
  KEYS[2] st     hash   step -> status letter
  KEYS[3] info   hash   step -> attempt record JSON (the latest delivery; earlier ones in h)
  KEYS[4] out    hash   step -> output JSON
  KEYS[5] items  hash   map instance -> item JSON

  ARGV[1] step name
  ARGV[2] fence token of this delivery
  ARGV[3] worker id
  ARGV[4] now (ms)
  ARGV[5] attempt number (1-based, from the queue's retry count)
  ARGV[6] events channel
  ARGV[7] '1' when the step is a map instance (its item is returned), else '0'
  ARGV[8] run id
  ARGV[9] '1' to return the run's fixed fields (pipeline, params, trigger, logicalTime, dagHash); a
          worker asks once per run and caches them, so a step costs no params copy and parse
  ARGV[10] code version of the worker's pipeline module ('' when unknown), kept with the attempt
  ARGV[11..] names of the upstream steps whose outputs the handler receives

  Returns { 1, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed, parked, item, out1, out2, ... }
    where the fixed fields are '' unless ARGV[9] asked for them, and parked is '' or JSON
    { state, count, since } when the step resumes from step-park.lua
  Errors:
    -1  run does not exist (expired or never created)
    -3  run or step was cancelled: drop the job
    -4  step already finished: drop the job (at-least-once delivery repeat)
    -5  step is not ready (upstream unfinished), or another worker's claim on it is live: drop the job
    -8  the run is pinned to another code version than ARGV[10]: hand the job to its version queue
]]
--- @include "attempt-history"
--- @include "start-delivery"
local run
if ARGV[9] == '1' then
  run = redis.call('HMGET', KEYS[1], 'status', 'failed', 'gen', 'versioning', 'codeVersion', 'pipeline', 'params', 'trigger', 'logicalTime', 'dagHash')
else
  run = redis.call('HMGET', KEYS[1], 'status', 'failed', 'gen', 'versioning', 'codeVersion')
end
if not run[1] then return -1 end
if run[1] == 'cancelled' then return -3 end

local step = ARGV[1]
local status = redis.call('HGET', KEYS[2], step)
if status == 'c' then return -3 end
if status == 's' or status == 'f' or status == 'k' or status == 'x' then return -4 end
if status ~= 'q' and status ~= 'r' then return -5 end

local now = ARGV[4]
local raw = redis.call('HGET', KEYS[3], step)
local info = raw and cjson.decode(raw) or {}
-- Claimed by a worker whose lease still holds (eager dispatch, fan-out list): this job is a copy the
-- reconciler added while the step waited on the list; the claim runs it.
if status == 'r' and info['ld'] and info['ld'] > tonumber(now) then return -5 end

if not codeVersionAllows(KEYS[1], ARGV[10], run[4], run[5]) then return -8 end

recordDelivery(info, tonumber(run[3] or '0'), tonumber(ARGV[5]), ARGV[2], ARGV[3], now, ARGV[10])
-- A job delivery holds no lease: its queue lock keeps it (a lease is for eagerly claimed steps).
info['ld'] = nil
redis.call('HSET', KEYS[3], step, cjson.encode(info))
redis.call('HSET', KEYS[2], step, 'r')

local runStatus = run[1]
if runStatus == 'queued' then
  runStatus = 'running'
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', now)
end
-- No updatedAt here: it moves when a step ends or is re-queued (complete, retry, park, map expansion),
-- so a run whose step runs longer than the reconciler's idle time is checked by asking BullMQ.
redis.call('PUBLISH', ARGV[6], ARGV[8] .. '|' .. step .. '|running')

local parked = ''
if info['pc'] then
  parked = cjson.encode({ state = info['ps'], count = info['pc'], since = info['psince'] })
end
local item = ''
if ARGV[7] == '1' then item = redis.call('HGET', KEYS[5], step) or 'null' end
local reply = { 1, runStatus, run[6] or '', run[7] or '', run[8] or '', run[9] or '', run[10] or '', run[2] or '0', parked, item }
local needs = {}
for i = 11, #ARGV do needs[#needs + 1] = ARGV[i] end
appendOutputs(KEYS[4], needs, reply)
return reply
