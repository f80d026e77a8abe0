-- A step's definition as run-trigger.lua stores it, "<rule letter>|<successors csv>|<needs csv>":
-- returns the rule letter, the successors csv and the needs csv.
local function stepDef(def)
  local sep1 = string.find(def, '|', 1, true)
  local sep2 = sep1 and string.find(def, '|', sep1 + 1, true)
  if not sep2 then return string.sub(def, 1, 1), '', '' end
  return string.sub(def, 1, sep1 - 1), string.sub(def, sep1 + 1, sep2 - 1), string.sub(def, sep2 + 1)
end
