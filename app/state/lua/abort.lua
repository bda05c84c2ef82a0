-- abort: release a lease without writing anything, so a retried delivery is processed again.
-- KEYS[1] channel:{C}:lease  string: lease token
-- ARGV[1] lease token
-- Returns 1 if the lease was ours and is released, 0 if it was not ours any more (nothing touched).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
