-- Clones one pre-order into fresh order numbers, for load that pays a new
-- order with every request. Called by clone_pre_orders in bench/lib.sh, once
-- per bucket, so every key of a call is in one hash slot (as a Redis Cluster
-- requires of a script):
--   redis-cli [-c] --eval bench/lua/clone_pre_orders.lua {order-number keys} , {first sid} {state} {doc} {ptype} {fp} {card} {ivr}
-- Each clone is an order-number hash laid out as checkout::store writes it:
-- its own session id, the fingerprint at issue and a mirror of the
-- session's rendered fields, which is all the hooks read. No session hash is
-- written (nothing on the paying path reads it), which keeps a long soak's
-- Redis to half the memory.
local names = {'state', 'doc', 'ptype', 'fp', 'card', 'ivr'}
local first = tonumber(ARGV[1])
for i = 1, #KEYS do
  local key = KEYS[i]
  redis.call('HSET', key, 'sid', string.format('%032x', first + i + 4096), 'fp0', ARGV[5])
  for k = 1, #names do redis.call('HSET', key, names[k], ARGV[k + 1]) end
  redis.call('EXPIRE', key, 86400)
end
return #KEYS
