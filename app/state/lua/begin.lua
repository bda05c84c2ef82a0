-- begin: start handling one inbound message of a channel, in one round trip.
-- KEYS[1] channel:{C}          hash: v (version), core (JSON), flow (JSON)
-- KEYS[2] channel:{C}:lease    string: the lease token of the worker handling this channel
-- KEYS[3] channel:{C}:seen     sorted set: processed message ids, scored by commit time (ms)
-- KEYS[4] channel:{C}:replies  list: the reply outbox (read only here)
-- ARGV[1] message id, or '' when the work has no message id (admin, timers)
-- ARGV[2] lease token (random, unique per session: the fencing token; a retry with the same token is safe)
-- ARGV[3] lease TTL in ms
-- Returns {'dup', reply...}                        already processed: do nothing, but send what is unsent
--       | {'busy', pttl_ms}                        another worker holds the channel for pttl_ms more
--       | {'ok', version, core|false, flow|false, known}
--                                                  lease taken; known=1 if the channel was seen before
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  local out = {'dup'}
  for _, r in ipairs(redis.call('LRANGE', KEYS[4], 0, 99)) do out[#out + 1] = r end
  return out
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then
  return {'busy', redis.call('PTTL', KEYS[2])}
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'v', 'core', 'flow')
local known = redis.call('EXISTS', KEYS[3])
return {'ok', tonumber(h[1]) or 0, h[2], h[3], known}
