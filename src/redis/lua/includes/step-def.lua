-- A step's definition as run-trigger.lua stores it,
-- "<rule letter>|<successors csv>|<upstream count>|<successor kinds>": returns the rule letter, the
-- successors csv, the number of upstream steps and the kinds ('' when the definition has none).
-- The count, not the list: every completion of an upstream step reads its successors' definitions,
-- so a list there made each completion cost O(fan-in) and a 10,000-way join O(n^2). Runs stored
-- before hold the list ("<need,...>"), counted here; step names start with a letter, so a
-- digits-only field is a count.
-- Kinds: one character per successor, in the csv's order, so a completion can advance a successor
-- without reading that successor's own definition: its rule letter when the completed step is its
-- only upstream step (decided at once), '+' when it has several and its rule waits for all of them
-- (only the last one reads its definition), '*' when it has several and its rule can fire early
-- (one-succeeded, one-failed: every completion decides). Definitions stored before have no kinds
-- (map instances' neither): every successor's definition is read, as it was then.
local function stepDef(def)
  local sep1 = string.find(def, '|', 1, true)
  local sep2 = sep1 and string.find(def, '|', sep1 + 1, true)
  if not sep2 then return string.sub(def, 1, 1), '', 0, '' end
  local sep3 = string.find(def, '|', sep2 + 1, true)
  local upstream = string.sub(def, sep2 + 1, sep3 and sep3 - 1 or nil)
  local kinds = sep3 and string.sub(def, sep3 + 1) or ''
  local count = tonumber(upstream)
  if not count then
    count = 0
    for _ in string.gmatch(upstream, '[^,]+') do count = count + 1 end
  end
  return string.sub(def, 1, sep1 - 1), string.sub(def, sep1 + 1, sep2 - 1), count, kinds
end
