-- A step's record (`info`) in one of two forms. JSON (starts with '{') while the step runs, waits or
-- has anything to tell beyond one plain delivery. Once a step finished with exactly one plain
-- delivery (no error, skip, history, generation, park, wait or map fields), step-complete stores it
-- positionally, so a finished run's records stay under Redis's hash-max-listpack-value (64 B) and the
-- hash stays a listpack (src/redis/step-info-codec.ts reads both; BENCHMARKS.md has the bytes):
--   a|d|sa|fa-sa|sa-fs|wallMs|cpuMs|rssBytes|mark|cv|w
-- sa and rssBytes in base 36 (8 and 6 digits instead of 13 and 9), the other numbers in decimal
-- (cpuMs as the worker sent it, fractions included); the resource figures are empty when none were
-- sent; `mark` is the first 6 hex digits of the SHA-1 of the fence token (the token is dead once the
-- step finished; the mark still tells a repeated completion of the same delivery, -4, from a stale
-- one, -2). `w` is last: a worker id may hold '|'.
local COMPACT_FIELDS = { a = true, d = true, t = true, w = true, cv = true, sa = true, fs = true, fa = true, res = true }

local function tokenMark(token)
  return string.sub(redis.sha1hex(token), 1, 6)
end

local function isInt(v)
  return type(v) == 'number' and v >= 0 and v == math.floor(v) and v < 2 ^ 53
end

local DIGITS36 = '0123456789abcdefghijklmnopqrstuvwxyz'
local function base36(n)
  local text = ''
  repeat
    local r = n % 36
    text = string.sub(DIGITS36, r + 1, r + 1) .. text
    n = (n - r) / 36
  until n == 0
  return text
end

-- A resource figure as plain decimal text, or nil when it has none (negative, exponent, not a number).
local function figure(v)
  if type(v) ~= 'number' or v < 0 then return nil end
  local text = isInt(v) and string.format('%d', v) or string.format('%.14g', v)
  return string.find(text, '^%d+%.?%d*$') and text or nil
end

-- The text to store for a record: the compact form when it says everything, else JSON.
local function encodeStepInfo(info)
  for k in pairs(info) do
    if not COMPACT_FIELDS[k] then return cjson.encode(info) end
  end
  local a, d, sa, fa, fs, cv = info['a'], info['d'], info['sa'], info['fa'], info['fs'] or info['sa'], info['cv'] or ''
  if not (isInt(a) and isInt(d) and isInt(sa) and isInt(fa) and isInt(fs)) or fa < sa or fs > sa then return cjson.encode(info) end
  if type(info['w']) ~= 'string' or type(cv) ~= 'string' or string.find(cv, '|', 1, true) then return cjson.encode(info) end
  local res = '||'
  if info['res'] then
    local ok, r = pcall(cjson.decode, info['res'])
    if not ok or type(r) ~= 'table' then return cjson.encode(info) end
    for k in pairs(r) do
      if k ~= 'wallMs' and k ~= 'cpuMs' and k ~= 'rssBytes' then return cjson.encode(info) end
    end
    local wall, cpu = figure(r['wallMs']), figure(r['cpuMs'])
    if not (wall and cpu and isInt(r['rssBytes'])) then return cjson.encode(info) end
    res = wall .. '|' .. cpu .. '|' .. base36(r['rssBytes'])
  end
  local mark = info['t'] and tokenMark(info['t']) or ''
  return string.format('%d|%d|%s|%d|%d|', a, d, base36(sa), fa - sa, sa - fs) .. res .. '|' .. mark .. '|' .. cv .. '|' .. info['w']
end

-- The record as a table, from either form (a compact one carries `mark` instead of the token `t`).
local function decodeStepInfo(raw)
  if not raw then return {} end
  if string.sub(raw, 1, 1) == '{' then return cjson.decode(raw) end
  local parts, from = {}, 1
  for _ = 1, 10 do
    local sep = string.find(raw, '|', from, true)
    parts[#parts + 1] = string.sub(raw, from, sep - 1)
    from = sep + 1
  end
  local sa = tonumber(parts[3], 36)
  local info = { a = tonumber(parts[1]), d = tonumber(parts[2]), sa = sa, fa = sa + tonumber(parts[4]), fs = sa - tonumber(parts[5]),
    w = string.sub(raw, from), mark = parts[9] ~= '' and parts[9] or nil, cv = parts[10] ~= '' and parts[10] or nil }
  if parts[6] ~= '' then
    info['res'] = '{"wallMs":' .. parts[6] .. ',"cpuMs":' .. parts[7] .. ',"rssBytes":' .. string.format('%d', tonumber(parts[8], 36)) .. '}'
  end
  return info
end

-- Whether `token` is the fence token of the record's delivery (of either form).
local function isDelivery(info, token)
  if info['mark'] then return info['mark'] == tokenMark(token) end
  return info['t'] == token
end

-- Redis never turns a hashtable back into a listpack, and a run's `info` hash became one when its
-- first running record (JSON with the fence token, over 64 B) was written. When the run ends and
-- every finished record fits redis.conf's default hash-max-listpack-entries (128) and -value (64 B),
-- the hash is written anew and so becomes a listpack again: once per run, at most 128 fields.
local LISTPACK_ENTRIES, LISTPACK_VALUE = 128, 64
local function repackStepInfos(key)
  if redis.call('HLEN', key) > LISTPACK_ENTRIES or redis.call('OBJECT', 'ENCODING', key) ~= 'hashtable' then return end
  local all = redis.call('HGETALL', key)
  for i = 1, #all do
    if #all[i] > LISTPACK_VALUE then return end
  end
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(all))
end
