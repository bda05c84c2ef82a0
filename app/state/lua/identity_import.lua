-- identity_import: give a person's state, unsent replies and processed ids to their new id (number changed).
-- KEYS[1] channel:{N}          hash: v, core, flow            (N: the new id)
-- KEYS[2] channel:{N}:replies  list: reply outbox
-- KEYS[3] channel:{N}:seen     sorted set: processed ids
-- ARGV[1] core JSON or ''   ARGV[2] flow JSON or ''   ARGV[3] state TTL in ms   ARGV[4] processed-id TTL in ms
-- ARGV[5] reply outbox TTL in ms   ARGV[6] number of replies R   ARGV[7..6+R] replies   then id, score pairs
-- Returns 1 if the state was written, 0 if the new id already had one (kept: it is newer). Safe to repeat.
local wrote = 0
if ARGV[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'v', 1, 'core', ARGV[1], 'flow', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  wrote = 1
end
local r = tonumber(ARGV[6])
if r > 0 and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 7, 6 + r))
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
local i = 7 + r
while i < #ARGV do
  redis.call('ZADD', KEYS[3], 'NX', ARGV[i + 1], ARGV[i])
  i = i + 2
end
if i > 7 + r then
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return wrote
