-- partition_release: give up ownership of one inbox partition, so another process takes it at once.
-- KEYS[1] inbox:{pN}:owner  string: the owning process's id
-- ARGV[1] process id
-- Returns 1 if it was ours and is released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
