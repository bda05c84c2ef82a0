-- mark_status: remember a delivery status (status id + status) once, per channel, bounded.
-- KEYS[1] channel:{C}:statuses  sorted set: "<status id>:<status>", scored by time (ms)
-- ARGV[1] member "<status id>:<status>"   ARGV[2] now in ms   ARGV[3] how many to keep   ARGV[4] TTL in ms
-- Returns 1 the first time a member is seen, 0 for a duplicate.
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if added == 1 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return added
