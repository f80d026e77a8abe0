-- The attempt record of a step that must be running under fence token `token`; otherwise nil and
-- the code to return: -3 cancelled, `notRunning` (the calling script's code) when the step is not
-- running, -2 when `token` is not the current delivery's (another worker took over).
local function runningAttempt(stKey, infoKey, step, token, notRunning)
  local status = redis.call('HGET', stKey, step)
  if status == 'c' then return nil, -3 end
  if status ~= 'r' then return nil, notRunning end
  local info = cjson.decode(redis.call('HGET', infoKey, step) or '{}')
  if info['t'] ~= token then return nil, -2 end
  return info
end
