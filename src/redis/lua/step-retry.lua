--[[
  Records a failed attempt that will be retried (by the queue's backoff): the step goes back to
  `queued` with the error kept for display. Only the current delivery may do this.
  With ARGV[7] = 'h' it is a hand-back instead (worker shutdown): the step goes back to `queued`
  with no error and no attempt counted; ARGV[3] is then the reason text, ARGV[5] unused.

  KEYS[1] st    hash  step -> status letter
  KEYS[2] info  hash  step -> attempt record JSON
  KEYS[3] run   hash

  ARGV[1] step, ARGV[2] fence token, ARGV[3] error JSON, ARGV[4] now (ms), ARGV[5] retry at (ms),
  ARGV[6] events channel, ARGV[7] 'h' for a hand-back, else absent

  Returns 1. Errors: -2 stale token, -3 cancelled, -4 step already finished.
]]
local status = redis.call('HGET', KEYS[1], ARGV[1])
if status == 'c' then return -3 end
if status ~= 'r' then return -4 end
local info = cjson.decode(redis.call('HGET', KEYS[2], ARGV[1]) or '{}')
if info['t'] ~= ARGV[2] then return -2 end
local event = 'retrying'
if ARGV[7] == 'h' then
  info['hb'] = (info['hb'] or 0) + 1
  info['hw'] = ARGV[3]
  event = 'handed-back'
else
  info['e'] = cjson.decode(ARGV[3])
  info['ra'] = tonumber(ARGV[5])
  info['n'] = (info['n'] or 0) + 1
end
-- Close the attempt in the history (step-start.lua opened it).
local last = info['h'] and info['h'][#info['h']]
if last and not last['o'] then
  last['fa'] = tonumber(ARGV[4])
  if ARGV[7] == 'h' then last['o'] = 'h' else
    last['o'] = 'r'
    last['e'] = info['e']
  end
end
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(info))
redis.call('HSET', KEYS[1], ARGV[1], 'q')
redis.call('HSET', KEYS[3], 'updatedAt', ARGV[4])
redis.call('PUBLISH', ARGV[6], redis.call('HGET', KEYS[3], 'id') .. '|' .. ARGV[1] .. '|' .. event)
return 1
