-- inbox_append: append one accepted update to its partition's stream, unless the partition is full.
-- KEYS[1] inbox:{pN}   stream (consumer group 'workers')
-- ARGV[1] most entries the stream may hold (handled entries are trimmed by the workers)
-- ARGV[2] kind ('m' message, 's' status, 'r' replies)   ARGV[3] channel id   ARGV[4] data (JSON)
-- Returns the new entry id, or false when the stream is full (the webhook answers 503 and Meta retries later).
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then
  return false
end
return redis.call('XADD', KEYS[1], '*', 'k', ARGV[2], 'c', ARGV[3], 'd', ARGV[4])
