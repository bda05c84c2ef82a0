-- outbox_enqueue: queue replies outside a session (a credex-core notification), once per work id.
-- KEYS[1] channel:{C}:replies  list: the reply outbox, oldest first
-- KEYS[2] channel:{C}:seen     sorted set: processed ids, scored by time (ms)
-- ARGV[1] work id (the inbox entry's id)   ARGV[2] now in ms   ARGV[3] processed-id TTL in ms
-- ARGV[4] reply outbox TTL in ms           ARGV[5..n] reply JSON documents, in order
-- Returns every reply still in the outbox, oldest first (at most 100); a repeated work id adds nothing.
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  if #ARGV >= 5 then
    redis.call('RPUSH', KEYS[1], unpack(ARGV, 5))
  end
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return redis.call('LRANGE', KEYS[1], 0, 99)
