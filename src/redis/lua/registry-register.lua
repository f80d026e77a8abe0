--[[
registry-register: allocate the next version number of a model and store its record, atomically.

KEYS[1]  P:model:{name}           hash   name, createdAt, updatedAt, latest (last version number), auditSeq
KEYS[2]  P:model:{name}:versions  hash   version number -> record JSON (without the number itself)
KEYS[3]  P:model:{name}:idem      hash   idempotency key -> version number

ARGV[1]  model name
ARGV[2]  now, ISO-8601 (createdAt / updatedAt)
ARGV[3]  version record JSON
ARGV[4]  idempotency key, or '' for none

Returns  {version, created}: created = 1 when a new version was written, 0 when the idempotency key
         matched an earlier registration (nothing written, that version returned).
Errors   {-1, version}: the slot for the next version is already taken (the model hash lost its
         counter while versions survived: data loss); nothing written.
]]
local idem = ARGV[4]
if idem ~= '' then
  local existing = redis.call('HGET', KEYS[3], idem)
  if existing then return {tonumber(existing), 0} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'name', ARGV[1], 'createdAt', ARGV[2], 'latest', 0, 'auditSeq', 0)
end
local version = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0') + 1
if redis.call('HSETNX', KEYS[2], tostring(version), ARGV[3]) == 0 then
  return {-1, version}
end
redis.call('HSET', KEYS[1], 'latest', version, 'updatedAt', ARGV[2])
if idem ~= '' then redis.call('HSET', KEYS[3], idem, version) end
return {version, 1}
