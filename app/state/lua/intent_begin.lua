-- intent_begin: before a credex-core write, check the lease is still ours (fencing), renew it, and record the
-- write's intent, in one round trip. A second try of the same operation finds the first one's record.
-- KEYS[1] channel:{C}:lease    string: lease token
-- KEYS[2] channel:{C}:intents  hash: operation id -> intent JSON (operation, parameters, time)
-- ARGV[1] lease token   ARGV[2] lease TTL in ms   ARGV[3] operation id   ARGV[4] intent JSON   ARGV[5] TTL in ms
-- ARGV[6] '1': replace an earlier record (it was reconciled as not done, this try is the write), else '0'
--         (absent: '0')
-- Returns {'lost'}              another worker holds the channel: the write must not happen
--       | {'new'}               recorded: make the write
--       | {'again', intent}     an earlier try of this operation never finished: reconcile, never repeat blindly
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {'lost'}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local earlier = redis.call('HGET', KEYS[2], ARGV[3])
if earlier and ARGV[6] ~= '1' then
  return {'again', earlier}
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {'new'}
