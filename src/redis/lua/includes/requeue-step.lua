-- Ends a running attempt without an outcome (a retry, a hand-back, a park): the step is `queued`
-- again with its updated attempt record, the run's progress time moves, and `event` is published.
local function requeueStep(stKey, infoKey, runKey, step, info, now, channel, event)
  redis.call('HSET', infoKey, step, cjson.encode(info))
  redis.call('HSET', stKey, step, 'q')
  redis.call('HSET', runKey, 'updatedAt', now)
  redis.call('PUBLISH', channel, redis.call('HGET', runKey, 'id') .. '|' .. step .. '|' .. event)
end
