-- commit: write a session's state and its replies in one atomic step, then release the lease.
-- KEYS[1] channel:{C}          hash: v, core, flow
-- KEYS[2] channel:{C}:lease    string: lease token
-- KEYS[3] channel:{C}:seen     sorted set: processed message ids, scored by commit time (ms)
-- KEYS[4] channel:{C}:replies  list: the reply outbox, JSON documents in sending order
-- KEYS[5] channel:{C}:done     string: token of the last committed session (makes a retried commit safe)
-- KEYS[6] channel:{C}:intents  hash: credex-core writes begun; those this session finished are forgotten
-- ARGV[1] lease token          ARGV[2] expected version     ARGV[3] core JSON     ARGV[4] flow JSON
-- ARGV[5] state TTL in ms      ARGV[6] message id or ''     ARGV[7] now in ms
-- ARGV[8] most processed ids kept   ARGV[9] processed-id TTL in ms   ARGV[10] reply outbox TTL in ms
-- ARGV[11] done-marker TTL in ms    ARGV[12] number of replies R    ARGV[13..12+R] reply JSON documents, in order
-- ARGV[13+R..n] ids of the intents whose outcome this commit records
-- Returns {'ok', version, reply...}  (every reply still in the outbox, oldest first, at most 100)
--       | {'lost'}                   (lease expired or taken over: nothing written)
--       | {'conflict', current}      (version moved: nothing written)
-- A commit retried after a dead connection finds its own token in KEYS[5] and answers 'ok' again.
local function pending()
  return redis.call('LRANGE', KEYS[4], 0, 99)
end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  if redis.call('GET', KEYS[5]) == ARGV[1] then
    local out = {'ok', tonumber(redis.call('HGET', KEYS[1], 'v')) or 0}
    for _, r in ipairs(pending()) do out[#out + 1] = r end
    return out
  end
  return {'lost'}
end
local current = tonumber(redis.call('HGET', KEYS[1], 'v')) or 0
if current ~= tonumber(ARGV[2]) then
  return {'conflict', current}
end
local version = current + 1
redis.call('HSET', KEYS[1], 'v', version, 'core', ARGV[3], 'flow', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if ARGV[6] ~= '' then
  local now = tonumber(ARGV[7])
  redis.call('ZADD', KEYS[3], now, ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[9]))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[8]) + 1))
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
end
local r = tonumber(ARGV[12])
if r > 0 then
  redis.call('RPUSH', KEYS[4], unpack(ARGV, 13, 12 + r))
end
if #ARGV >= 13 + r then
  redis.call('HDEL', KEYS[6], unpack(ARGV, 13 + r))
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('PEXPIRE', KEYS[4], ARGV[10])
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[11])
local out = {'ok', version}
for _, r in ipairs(pending()) do out[#out + 1] = r end
return out
