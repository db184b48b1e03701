-- Sends the requests listed in the file BENCH_REQUESTS, one per line:
-- METHOD <tab> PATH <tab> BODY [<tab> SESSION]. Every request carries a JSON
-- content type, when BENCH_TOKEN is set that bearer token, and when the line
-- names a checkout session, that session (X-Checkout-Session). Requests are formatted once per
-- thread before the run, so the load generator spends its share of the two
-- cores sending, not building strings. With BENCH_SPLIT=1 each thread takes
-- its own disjoint slice of the lines, so no request is sent twice (fresh
-- orders, one completion per draft sale) until a slice runs out.
local split = os.getenv("BENCH_SPLIT") == "1"
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")

local index = 0
function setup(thread)
  thread:set("thread_index", index)
  index = index + 1
end

local requests = {}
local i = 0

function init(args)
  local lines = {}
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do lines[#lines + 1] = line end
  local first, last = 1, #lines
  if split then
    local share = math.floor(#lines / threads)
    first = thread_index * share + 1
    last = first + share - 1
  end
  local headers = { ["Content-Type"] = "application/json" }
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  for k = first, last do
    local method, path, body, session = string.match(lines[k], "^(%S+)\t(%S+)\t?([^\t]*)\t?(.*)$")
    local line_headers = headers
    if session ~= "" then
      line_headers = { ["X-Checkout-Session"] = session }
      for name, value in pairs(headers) do line_headers[name] = value end
    end
    requests[#requests + 1] = wrk.format(method, path, line_headers, body ~= "" and body or nil)
  end
end

function request()
  i = i + 1
  if i > #requests then i = 1 end
  return requests[i]
end
