-- outbox_ack: remove a delivered reply from the head of a channel's reply outbox.
-- KEYS[1] channel:{C}:replies  list: the reply outbox, oldest first
-- ARGV[1] the reply JSON document exactly as it was read
-- Returns 1 if it was the head and is removed, 0 otherwise (already removed: a retried ack is harmless).
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
return 0
