-- Write-behind hash fields. A completion writes a run's step hashes field by field: its own step's
-- status and record, each successor it decides, the step it claims next. Buffered here, each hash's
-- writes go out as one HSET when the script ends (`flush`), so a fan-out that makes 10,000 steps
-- ready costs one command where it cost 10,000, and a chain hop writes its two statuses at once.
-- `get` reads through the buffer: the script sees its own writes, as it did when they went straight
-- to Redis. Only scripts that end with `flush` on every path that wrote may use it.
local WRITE_BEHIND_CHUNK = 500 -- field/value pairs per HSET: unpack() fails beyond a few thousand values
local function writeBehind(key)
  local buffered, order = {}, {}
  local hash = {}
  function hash.get(field)
    local value = buffered[field]
    if value ~= nil then return value end
    return redis.call('HGET', key, field)
  end
  function hash.set(field, value)
    if buffered[field] == nil then order[#order + 1] = field end
    buffered[field] = value
  end
  function hash.flush()
    local flat = {}
    for i = 1, #order do
      flat[#flat + 1] = order[i]
      flat[#flat + 1] = buffered[order[i]]
      if #flat == 2 * WRITE_BEHIND_CHUNK or i == #order then
        redis.call('HSET', key, unpack(flat))
        flat = {}
      end
    end
    buffered, order = {}, {}
  end
  return hash
end

-- RPUSH of many values, in chunks (see WRITE_BEHIND_CHUNK).
local function rpushAll(key, values)
  for i = 1, #values, WRITE_BEHIND_CHUNK do
    redis.call('RPUSH', key, unpack(values, i, math.min(i + WRITE_BEHIND_CHUNK - 1, #values)))
  end
end
