--[[
  A pickup job of a run's fan-out list was delivered: claims the list's next queued step for the
  worker that took the job, as a completion claims one (includes/eager-claim.lua). Pickup jobs let
  other workers join a fan-out whose steps wait on the list rather than in the queue.

  KEYS[1] run    hash
  KEYS[2] st     hash   step -> status letter
  KEYS[3] out    hash   step -> output JSON
  KEYS[4] info   hash   step -> attempt record
  KEYS[5] rdy    list   the fan-out list of the job's pool
  KEYS[6] leases zset   step -> lease deadline of its claim

  ARGV[1] fence token of the claimed delivery
  ARGV[2] worker id
  ARGV[3] lease deadline (ms)
  ARGV[4] code version of the worker's pipeline module ('' when unknown)
  ARGV[5] '1' to return the run's fixed fields
  ARGV[6] now (ms)
  ARGV[7] events channel

  Returns { 2, generation, step, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed,
  out1, ... } (the claim part of includes/eager-claim.lua), or { 1 } when the list holds no step
  this worker may claim (the job is done).
]]
--- @include "attempt-history"
--- @include "start-delivery"
--- @include "write-behind"
--- @include "eager-claim"
local k = { run = KEYS[1], st = writeBehind(KEYS[2]), out = KEYS[3], info = writeBehind(KEYS[4]), leases = KEYS[6] }
local offer = { token = ARGV[1], worker = ARGV[2], leaseDeadline = ARGV[3], codeVersion = ARGV[4], withFixed = ARGV[5] }
local run = readRunForClaim(KEYS[1], { 'id' }, ARGV[5] == '1')
if not run.id then return { 1 } end
local claim = claimListed(k, KEYS[5], offer, { runId = run.id, now = ARGV[6], channel = ARGV[7], run = run })
k.st.flush()
k.info.flush()
if not claim then return { 1 } end
local reply = { 2, run.gen or '0' }
for i = 1, #claim do reply[#reply + 1] = claim[i] end
return reply
