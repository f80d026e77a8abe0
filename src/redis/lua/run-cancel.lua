--[[
  Cancels a run: every step not yet finished becomes `cancelled`; the run ends `cancelled`.

  KEYS[1] run  hash
  KEYS[2] st   hash
  KEYS[3] pend, KEYS[4] bad, KEYS[5] cskip   hashes of upstream counters: deleted, a finished run has
          no use for them (run-retry.lua sets them afresh for the steps it resets)

  ARGV[1] now (ms), ARGV[2] events channel, ARGV[3] who/why (stored on the run)

  Returns { 1, step1, step2, ... }: the steps that were queued or running (their jobs are dropped
  by workers; running ones are aborted through the cancel channel).
  Errors: -1 run does not exist, -6 run already finished.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status == 'succeeded' or status == 'failed' or status == 'cancelled' then return -6 end
local all = redis.call('HGETALL', KEYS[2])
local active = {}
for i = 1, #all, 2 do
  local s = all[i + 1]
  if s == 'p' or s == 'q' or s == 'r' or s == 'm' then
    redis.call('HSET', KEYS[2], all[i], 'c')
    if s == 'q' or s == 'r' then active[#active + 1] = all[i] end
  end
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finishedAt', ARGV[1], 'updatedAt', ARGV[1], 'cancelledBy', ARGV[3], 'remaining', 0)
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
redis.call('PUBLISH', ARGV[2], redis.call('HGET', KEYS[1], 'id') .. '||cancelled')
local reply = { 1 }
for i = 1, #active do reply[#reply + 1] = active[i] end
return reply
