-- delete_session: forget a channel's session (state and lease); processed ids are kept so that
-- a retried delivery of an already handled message is still recognised after a reset.
-- KEYS[1] channel:{C}        hash: v, core, flow
-- KEYS[2] channel:{C}:lease  string: lease token
-- Returns the number of keys deleted (0, 1 or 2). A session in flight then fails its commit ('lost').
return redis.call('DEL', KEYS[1], KEYS[2])
