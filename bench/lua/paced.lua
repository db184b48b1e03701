-- Like rotate.lua, at a fixed pace: each connection waits SOAK_DELAY_MS
-- before every request, and every answer is checked for SOAK_EXPECT (a
-- substring of the success body); wrong answers are counted and printed.
local path = os.getenv("BENCH_PATH")
local template = os.getenv("BENCH_BODY")
local expect = os.getenv("SOAK_EXPECT")
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local numbers = {}
for line in io.lines(os.getenv("BENCH_ORDERS")) do numbers[#numbers + 1] = line end

local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local i = 0
local wrong = 0
local headers = { ["Content-Type"] = "application/json" }
function delay() return pause end
function request()
  i = i + 1
  local idx = ((thread_index or 0) * 1000000 + i) % #numbers + 1
  return wrk.format("POST", path, headers, (template:gsub("{N}", numbers[idx])))
end
function response(status, _, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then wrong = wrong + 1 end
end
function done()
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("wrong") or 0) end
  io.write(string.format("WRONG_ANSWERS %d\n", total))
end
