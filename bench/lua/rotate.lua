-- Posts BENCH_BODY (with {N} replaced by an order number) to BENCH_PATH,
-- taking order numbers from the file BENCH_ORDERS. Each wrk thread walks its
-- own slice, so with BENCH_FRESH=1 every request uses a new order number.
local path = os.getenv("BENCH_PATH")
local template = os.getenv("BENCH_BODY")
local fresh = os.getenv("BENCH_FRESH") == "1"
local numbers = {}
for line in io.lines(os.getenv("BENCH_ORDERS")) do numbers[#numbers + 1] = line end

local threads = 0
function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

local i = 0
local headers = { ["Content-Type"] = "application/json" }
function request()
  i = i + 1
  local idx
  if fresh then
    idx = ((thread_index or 0) * 1000000 + i) % #numbers + 1
  else
    idx = i % #numbers + 1
  end
  local body = template:gsub("{N}", numbers[idx])
  return wrk.format("POST", path, headers, body)
end
