--[[
registry-move-alias: set, delete or roll back one alias of a model, append the audit entry and
publish it, all in one step (a reader never sees a moved alias without its audit entry).

KEYS[1]  P:model:{name}           hash   model record (auditSeq, updatedAt)
KEYS[2]  P:model:{name}:versions  hash   version number -> record JSON
KEYS[3]  P:model:{name}:aliases   hash   alias -> version number
KEYS[4]  P:model:{name}:audit     list   audit entries JSON, newest first (LPUSH)

ARGV[1]  action: 'set' | 'delete' | 'rollback'
ARGV[2]  alias
ARGV[3]  target version for 'set'; '' otherwise
ARGV[4]  compare-and-set: '' = no check, '-' = alias must be unset, else the version it must point at
ARGV[5]  actor
ARGV[6]  now, ISO-8601
ARGV[7]  reason ('' allowed)
ARGV[8]  model name
ARGV[9]  pub/sub channel to PUBLISH the entry on, '' = do not publish
ARGV[10] details: a JSON object to attach to the entry, '' for none

'rollback' undoes the newest move of the alias that no rollback has undone yet: walking the audit
log newest first, each rollback entry cancels the next earlier move (set or delete with from ~= to),
and the first move left over gives the target (its `from`; null removes the alias). So rollbacks
step back through the history one move at a time (v3 → v2 → v1 → unset) instead of toggling
between the last two versions.

Returns  {1, entry JSON}
Errors   {-1, ''}            model not found
         {-2, version}       target version does not exist
         {-3, current or ''} compare-and-set failed: the alias points elsewhere ('' = unset)
         {-4, ''}            'delete' of an alias that is not set
         {-5, ''}            'rollback' with no move of this alias left to undo in the audit log
]]
local action, alias = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end

local current = redis.call('HGET', KEYS[3], alias)
local expected = ARGV[4]
if expected ~= '' then
  if expected == '-' then
    if current then return {-3, current} end
  elseif current ~= expected then
    return {-3, current or ''}
  end
end

local target = nil
if action == 'set' then
  target = ARGV[3]
  if redis.call('HEXISTS', KEYS[2], target) == 0 then return {-2, target} end
elseif action == 'delete' then
  if not current then return {-4, ''} end
elseif action == 'rollback' then
  local found = false
  local undone = 0
  local len = redis.call('LLEN', KEYS[4])
  local start = 0
  while not found and start < len do
    local chunk = redis.call('LRANGE', KEYS[4], start, start + 99)
    for _, raw in ipairs(chunk) do
      local e = cjson.decode(raw)
      if e.alias == alias and e.action == 'rollback' then
        undone = undone + 1
      elseif e.alias == alias and (e.action == 'set' or e.action == 'delete') and e.from ~= e.to then
        if undone == 0 then
          found = true
          if e.from ~= cjson.null then target = tostring(e.from) end
          break
        end
        undone = undone - 1
      end
    end
    start = start + 100
  end
  if not found then return {-5, ''} end
  if target and redis.call('HEXISTS', KEYS[2], target) == 0 then return {-2, target} end
end

if target then redis.call('HSET', KEYS[3], alias, target) else redis.call('HDEL', KEYS[3], alias) end

local seq = redis.call('HINCRBY', KEYS[1], 'auditSeq', 1)
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[6])
local entry = cjson.encode({
  seq = seq, model = ARGV[8], at = ARGV[6], actor = ARGV[5], action = action, alias = alias,
  from = current and tonumber(current) or cjson.null,
  to = target and tonumber(target) or cjson.null,
  reason = ARGV[7],
})
-- Details are spliced in as given so empty objects/arrays keep their JSON type (cjson cannot tell).
if ARGV[10] ~= '' then entry = string.sub(entry, 1, -2) .. ',"details":' .. ARGV[10] .. '}' end
redis.call('LPUSH', KEYS[4], entry)
if ARGV[9] ~= '' then redis.call('PUBLISH', ARGV[9], entry) end
return {1, entry}
