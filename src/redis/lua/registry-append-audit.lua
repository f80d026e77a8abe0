--[[
registry-append-audit: append an entry that moves no alias (a deployment record) to a model's audit
log, numbered in the same sequence as alias moves.

KEYS[1]  P:model:{name}        hash   model record (auditSeq)
KEYS[2]  P:model:{name}:audit  list   audit entries JSON, newest first (LPUSH)

ARGV[1]  entry JSON object without "seq" (at least one field)

Returns  {1, entry JSON with "seq"}
Errors   {-1, ''}  model not found
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end
local seq = redis.call('HINCRBY', KEYS[1], 'auditSeq', 1)
local entry = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('LPUSH', KEYS[2], entry)
return {1, entry}
