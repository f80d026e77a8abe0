-- A step's definition as run-trigger.lua stores it, "<rule letter>|<successors csv>|<upstream count>":
-- returns the rule letter, the successors csv and the number of upstream steps. The count, not the
-- list: every completion of an upstream step reads its successors' definitions, so a list there made
-- each completion cost O(fan-in) and a 10,000-way join O(n^2). Runs stored before hold the list
-- ("<need,...>"), counted here; step names start with a letter, so a digits-only field is a count.
local function stepDef(def)
  local sep1 = string.find(def, '|', 1, true)
  local sep2 = sep1 and string.find(def, '|', sep1 + 1, true)
  if not sep2 then return string.sub(def, 1, 1), '', 0 end
  local upstream = string.sub(def, sep2 + 1)
  local count = tonumber(upstream)
  if not count then
    count = 0
    for _ in string.gmatch(upstream, '[^,]+') do count = count + 1 end
  end
  return string.sub(def, 1, sep1 - 1), string.sub(def, sep1 + 1, sep2 - 1), count
end
