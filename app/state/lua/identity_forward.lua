-- identity_forward: after identity_import, retire the old id: forget its state and replies, leave a forwarding
-- record (for the admin API and the logs). Processed ids are kept, so a late redelivery is still a duplicate.
-- KEYS[1] channel:{O}   KEYS[2] channel:{O}:replies   KEYS[3] channel:{O}:moved (string: the new id)
-- KEYS[4] channel:{O}:lease
-- ARGV[1] the new id   ARGV[2] forwarding record TTL in ms
-- Returns 1. Safe to repeat. A session in flight on the old id then fails its commit (version moved).
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
return 1
