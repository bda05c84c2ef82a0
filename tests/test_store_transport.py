"""A pooled connection whose socket died under the service (a failover, a restart) fails under uvloop, which the
service runs on, with a RuntimeError from the transport, not the OSError redis-py expects. The connections of
app/state/connection.py report it as the lost connection it is, so the command is sent again on a fresh one:
seen in the cluster failover test, where it escaped the sent reply's outbox ack, the entry was retried and the
reply was sent twice; it also failed inbox appends with a 500 and ended the shared inbox read for good. Real
Redis, under uvloop as in the service."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import uvloop
from redis.asyncio import Redis

from app.inbox.inbox import Inbox, NewEntry
from app.inbox.keys import GROUP, partition_keys
from app.state.connection import LostAwareConnection, LostAwareSSLConnection, LostAwareUnixConnection
from app.state.factory import build_redis, build_store
from app.state.keys import channel_keys
from app.workers.shared_read import SharedReader
from tests.conftest import make_settings
from tests.test_shared_read import Follower


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
            _kill_sockets(redis)
            acked = await ra.ack_reply(channel, b"reply-1")
            left = await redis.lrange(channel_keys(channel).replies, 0, -1)
            return acked, left
        finally:
            for key in [key async for key in redis.scan_iter(match=f"{channel_keys(channel).state}*")]:
                await redis.delete(key)
            await redis.aclose()

    acked, left = uvloop.run(scenario())
    assert acked and left == []


def _kill_sockets(redis: Redis) -> None:
    """Abort every idle pooled connection's socket: gone, and redis-py does not know yet."""
    for connection in redis.connection_pool._available_connections:  # type: ignore[attr-defined]
        connection._writer.transport.abort()


def test_an_inbox_append_over_dead_sockets_is_stored_not_a_500(real_redis_url: str) -> None:
    channel = f"2637{uuid.uuid4().int % 10**8:08d}"
    partition = 40 + uuid.uuid4().int % 20  # a partition no service of the suite reads

    async def scenario() -> int:
        redis = build_redis(make_settings(redis_url=real_redis_url))
        stream = partition_keys(partition).stream
        try:
            inbox = Inbox(redis, partitions=partition + 1)
            inbox.stream_for = lambda _channel: stream  # type: ignore[method-assign]
            await redis.ping()
            _kill_sockets(redis)
            ids = await inbox.append([NewEntry("m", channel, b"{}")])  # raised RuntimeError: a 500 to Meta
            assert len(ids) == 1
            return int(await redis.xlen(stream))
        finally:
            await redis.delete(stream)
            await redis.aclose()

    assert uvloop.run(scenario()) == 1


def test_the_shared_inbox_read_goes_on_over_dead_sockets(real_redis_url: str) -> None:
    partition = 60 + uuid.uuid4().int % 20
    stream = partition_keys(partition).stream

    async def scenario() -> None:
        redis = build_redis(make_settings(redis_url=real_redis_url))
        writer = Redis.from_url(real_redis_url)  # the test's own commands: not over the dead sockets
        reader = SharedReader(redis, f"proc-{uuid.uuid4().hex[:6]}", block_ms=200)
        follower = Follower(partition)
        try:
            await writer.xgroup_create(stream, GROUP, id="0", mkstream=True)
            await redis.ping()
            _kill_sockets(redis)  # the read's first command meets a dead socket (it ended the read task for good)
            following = asyncio.ensure_future(reader.follow(follower))
            await writer.xadd(stream, {"k": "m"})
            await asyncio.wait_for(follower.got.wait(), timeout=5)
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
        finally:
            await reader.close()
            await writer.delete(stream)
            await writer.aclose()
            await redis.aclose()

    uvloop.run(scenario())


def test_every_kind_of_redis_url_and_every_cluster_node_gets_the_lost_aware_connection() -> None:
    wanted = {
        "redis://127.0.0.1:6379/3": LostAwareConnection,
        "rediss://127.0.0.1:6390/0": LostAwareSSLConnection,
        "unix:///tmp/redis-test.sock": LostAwareUnixConnection,
    }
    for url, cls in wanted.items():
        assert build_redis(make_settings(redis_url=url)).connection_pool.connection_class is cls, url
    cluster: Any = build_redis(
        make_settings(redis_url="redis://127.0.0.1:7000,redis://127.0.0.1:7001", redis_cluster=True)
    )
    startup = [node.connection_class for node in cluster.nodes_manager.startup_nodes.values()]
    assert startup == [LostAwareConnection, LostAwareConnection]  # RedisCluster rebuilds them: ours must survive
    assert cluster.nodes_manager.connection_kwargs["connection_class"] is LostAwareConnection  # slot map, MOVED
