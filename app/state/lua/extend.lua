-- extend: renew a session's lease before a side effect (a credex-core write), so that no other worker can take
-- the channel over while the write is in flight.
-- KEYS[1] channel:{C}:lease  string: lease token
-- ARGV[1] lease token        ARGV[2] lease TTL in ms
-- Returns 1 if the lease was ours and now runs for the full TTL again, 0 if it is not ours any more.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
