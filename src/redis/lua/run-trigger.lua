--[[
  Creates a run: record, per-step definitions, statuses and upstream counters. The DAG snapshot is
  not the run's: it is shared per pipeline version (see dag-retain.lua), stored before this runs.
  Roots (no upstream) go straight to `queued`; the caller enqueues them.
  Idempotent: a run id that exists already is left untouched (deterministic ids make repeats safe).

  KEYS[1] run      hash    run record
  KEYS[2] def      hash    step -> "<when>|<successors csv>|<upstream count>" (includes/step-def.lua)
  KEYS[3] st       hash    step -> status letter
  KEYS[4] pend     hash    step -> unfinished upstream count

  ARGV[1] run record fields, JSON object of strings
  ARGV[2] steps, JSON array of [name, def, upstreamCount]
  ARGV[3] events channel

  Returns { 1, root1, root2, ... } when created, { 0 } when the run already existed.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return { 0 } end

local fields = cjson.decode(ARGV[1])
local steps = cjson.decode(ARGV[2])

-- HSET with many fields in chunks: Lua's unpack() is limited to a few thousand values.
local function hsetChunked(key, flat)
  local chunk = {}
  for i = 1, #flat do
    chunk[#chunk + 1] = flat[i]
    if #chunk == 1000 then
      redis.call('HSET', key, unpack(chunk))
      chunk = {}
    end
  end
  if #chunk > 0 then redis.call('HSET', key, unpack(chunk)) end
end

local runFlat = {}
for k, v in pairs(fields) do
  runFlat[#runFlat + 1] = k
  runFlat[#runFlat + 1] = v
end
runFlat[#runFlat + 1] = 'remaining'
runFlat[#runFlat + 1] = tostring(#steps)
hsetChunked(KEYS[1], runFlat)

local defs, statuses, pending, roots = {}, {}, {}, {}
for i = 1, #steps do
  local name, def, count = steps[i][1], steps[i][2], steps[i][3]
  defs[#defs + 1] = name
  defs[#defs + 1] = def
  statuses[#statuses + 1] = name
  if count == 0 then
    statuses[#statuses + 1] = 'q'
    roots[#roots + 1] = name
  else
    statuses[#statuses + 1] = 'p'
    pending[#pending + 1] = name
    pending[#pending + 1] = count
  end
end
hsetChunked(KEYS[2], defs)
hsetChunked(KEYS[3], statuses)
if #pending > 0 then hsetChunked(KEYS[4], pending) end

redis.call('PUBLISH', ARGV[3], fields['id'] .. '||queued')
local reply = { 1 }
for i = 1, #roots do reply[#reply + 1] = roots[i] end
return reply
