-- clear_flow: drop the flow data of a channel, keeping channel, member and auth; outside any session.
-- KEYS[1] channel:{C}        hash: v, core, flow
-- KEYS[2] channel:{C}:lease  string: lease token
-- ARGV[1] empty flow JSON    ARGV[2] state TTL in ms (sliding)
-- Returns {'ok', new_version} | {'missing'} (no state) | {'busy', pttl_ms} (a session holds the channel)
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'busy', redis.call('PTTL', KEYS[2])}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'missing'}
end
redis.call('HSET', KEYS[1], 'flow', ARGV[1])
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'ok', version}
