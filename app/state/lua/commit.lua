-- commit: write the state of a session that still holds its lease, in one round trip.
-- KEYS[1] channel:{C}        hash: v, core, flow
-- KEYS[2] channel:{C}:lease  string: lease token
-- KEYS[3] channel:{C}:seen   sorted set: processed message ids
-- ARGV[1] lease token        ARGV[2] expected version (what begin returned)
-- ARGV[3] core JSON          ARGV[4] flow JSON          ARGV[5] state TTL in ms (sliding: renewed here)
-- ARGV[6] message id or ''   ARGV[7] now in ms (score)  ARGV[8] how many processed ids to keep
-- ARGV[9] processed ids TTL in ms (as long as Meta may retry)
-- Returns {'ok', new_version} | {'lost'} (lease expired or taken over) | {'conflict', current_version}
-- Nothing is written unless the answer is 'ok'; the lease is released only on 'ok'.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
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
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[8]) + 1))
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
end
redis.call('DEL', KEYS[2])
return {'ok', version}
