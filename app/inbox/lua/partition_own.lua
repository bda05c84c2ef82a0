-- partition_own: take or renew a process's ownership of one inbox partition.
-- KEYS[1] inbox:{pN}:owner  string: the owning process's id
-- ARGV[1] process id        ARGV[2] ownership TTL in ms
-- Returns 1 if this process owns the partition for the next TTL, 0 if another process does.
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
