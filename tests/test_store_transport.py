"""A pooled connection whose socket died under the service (a failover, a restart) fails under uvloop, which the
service runs on, with a RuntimeError from the transport, not the OSError redis-py expects. The store must treat
it like any other lost connection: seen in the cluster failover test, where it escaped the sent reply's outbox
ack, the entry was retried and the reply was sent twice. Real Redis, under uvloop as in the service."""

from __future__ import annotations

import uuid

import uvloop

from app.state.factory import build_redis, build_store
from app.state.keys import channel_keys
from tests.conftest import make_settings


def test_a_dead_transport_under_uvloop_is_a_lost_connection_and_the_reply_ack_lands(real_redis_url: str) -> None:
    channel = f"2637{uuid.uuid4().int % 10**8:08d}"

    async def scenario() -> tuple[bool, list[bytes]]:
        settings = make_settings(redis_url=real_redis_url)
        redis = build_redis(settings)
        store = build_store(settings, redis)
        ra = store.redis_atomic
        try:
            await ra.load_scripts()
            outbox = await ra.enqueue_replies(channel, "work:1", [b"reply-1"])
            assert outbox == (b"reply-1",)
            pool = redis.connection_pool
            for connection in pool._available_connections:  # type: ignore[attr-defined]
                connection._writer.transport.abort()  # the socket is gone; redis-py does not know yet
            acked = await ra.ack_reply(channel, b"reply-1")
            left = await redis.lrange(channel_keys(channel).replies, 0, -1)
            return acked, left
        finally:
            for key in [key async for key in redis.scan_iter(match=f"{channel_keys(channel).state}*")]:
                await redis.delete(key)
            await redis.aclose()

    acked, left = uvloop.run(scenario())
    assert acked and left == []
