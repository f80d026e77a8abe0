-- Attempt history. A step's record (`info`) describes its latest delivery; `h` keeps the earlier
-- ones, so a step that ran once stores no history at all. A delivery that ends without ending the
-- step (retry 'r', hand-back 'h', park 'p', or a run retry: the step's old letter) says so in `o`
-- and `ea`; when the next delivery starts, archiveAttempt moves the record's delivery into `h`.
local ATTEMPT_HISTORY_EARLIER = 9

local function endAttempt(info, outcome, now)
  info['o'] = outcome
  info['ea'] = tonumber(now)
end

-- Called by step-start.lua before it overwrites the record for a new delivery. A previous delivery
-- with no `o` never reported: its worker stalled or died ('lost').
local function archiveAttempt(info)
  if not info['sa'] then return end
  local outcome = info['o'] or 'lost'
  local history = info['h'] or {}
  history[#history + 1] = {
    a = info['a'], g = info['g'], w = info['w'], cv = info['cv'], sa = info['sa'], fa = info['ea'],
    o = outcome, e = (outcome == 'r' or outcome == 'f') and (info['e'] or info['prev']) or nil,
  }
  while #history > ATTEMPT_HISTORY_EARLIER do table.remove(history, 1) end
  info['h'] = history
  info['o'] = nil
  info['ea'] = nil
end
