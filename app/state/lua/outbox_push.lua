-- outbox_push: append replies to a channel's development outbox, bounded.
-- KEYS[1] channel:{C}:outbox      sorted set: members "<seq> <message JSON>", scored by seq
-- KEYS[2] channel:{C}:outbox:seq  string: the last sequence number handed out
-- ARGV[1] how many entries to keep   ARGV[2] TTL in ms   ARGV[3..n] message JSON documents, in order
-- Returns the sequence number of the last entry written.
local seq = 0
for i = 3, #ARGV do
  seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], seq, seq .. ' ' .. ARGV[i])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return seq
