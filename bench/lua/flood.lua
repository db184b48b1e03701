-- Hook logins behind a trusted load balancer (bench/flood.sh). Every request
-- is a cash register pre_order for FLOOD_ORDER with an X-Forwarded-For, as
-- the balancer would send it.
--   FLOOD_MODE=attack: a wrong password from a random address each time.
--   FLOOD_MODE=till:   the right password from one till's address; done()
--                      prints how many answers were not the pre-order.
local mode = os.getenv("FLOOD_MODE") or "till"
local order = os.getenv("FLOOD_ORDER")
local headers = { ["Content-Type"] = "application/json" }
local till_request
refused = 0
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
  if mode == "till" then
    headers["X-Forwarded-For"] = "10.250.0.1"
    till_request = wrk.format("POST", "/hooks/cash_register/pre_order/", headers,
      '{"order_number":"' .. order .. '","username":"bench","password":"bench-secret"}')
  end
end

function request()
  if till_request then return till_request end
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 199), math.random(0, 255), math.random(1, 254))
  local body = string.format('{"order_number":"%s","username":"bench","password":"guess-%d"}', order, math.random(1, 2^30))
  return wrk.format("POST", "/hooks/cash_register/pre_order/", headers, body)
end

if mode == "till" then
  function response(status, headers, body)
    if status ~= 200 or not body:find('"pre_order"', 1, true) then refused = refused + 1 end
  end
  function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("refused") end
    io.stdout:write(string.format("refused %d\n", total))
  end
end
