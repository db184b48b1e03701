-- Clones one pre-order into ARGV[2] fresh order numbers, for load that pays
-- a new order with every request. Run inside Redis:
--   redis-cli --eval bench/lua/clone_pre_orders.lua {prefix}checkout:{session} , {prefix} {count} {number prefix}
-- Each clone is an order-number hash laid out as checkout::store writes it:
-- its own session id, the fingerprint at issue and a mirror of the
-- session's rendered fields, which is all the hooks read. The session hash
-- itself is not copied (nothing on the paying path reads it), which keeps a
-- long soak's Redis to half the memory.
local names = {'state', 'doc', 'ptype', 'fp', 'card', 'ivr'}
local values = redis.call('HMGET', KEYS[1], unpack(names))
local prefix, count, numbers = ARGV[1], tonumber(ARGV[2]), ARGV[3]
for i = 1, count do
  local sid = string.format('%032x', i + 4096)
  local key = prefix .. 'order_number:' .. numbers .. i
  redis.call('HSET', key, 'sid', sid, 'fp0', values[4])
  for k = 1, #names do redis.call('HSET', key, names[k], values[k]) end
  redis.call('EXPIRE', key, 86400)
end
return count
