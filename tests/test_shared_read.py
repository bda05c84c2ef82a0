"""The one read over all of a process's partitions: joining and leaving cut a blocked read short (real Redis:
CLIENT UNBLOCK), a leaver returns only once no read naming its stream is in flight and what arrives afterwards
stays for the next owner, and a failed read fails every follower. Both stores (fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from structlog.testing import capture_logs

from app.inbox.keys import GROUP, partition_keys
from app.workers.shared_read import SharedReader


class Follower:
    def __init__(self, partition: int) -> None:
        self.stream = partition_keys(partition).stream
        self.rows: list[Any] = []
        self.got = asyncio.Event()

    async def take(self, rows: list[Any]) -> None:
        if rows:
            self.rows.extend(rows)
            self.got.set()


async def _group(redis: Redis, follower: Follower) -> None:
    await redis.xgroup_create(follower.stream, GROUP, id="0", mkstream=True)


async def _followers(redis: Redis, *partitions: int) -> list[Follower]:
    """A follower for each partition, its stream and group made."""
    followers = [Follower(p) for p in partitions]
    for follower in followers:
        await _group(redis, follower)
    return followers


async def test_a_partition_joining_a_blocked_read_gets_its_entries_without_waiting_for_the_timeout(
    redis_client: Redis, backend: str
) -> None:
    reader = SharedReader(redis_client, "proc-a", block_ms=3_000)
    first, second = await _followers(redis_client, 0, 1)
    tasks = [asyncio.create_task(reader.follow(first))]
    await asyncio.sleep(0.2)  # the read is blocked on partition 0 alone
    tasks.append(asyncio.create_task(reader.follow(second)))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await redis_client.xadd(second.stream, {"k": "m"})
    await asyncio.wait_for(second.got.wait(), timeout=5)
    if backend == "redis":  # fakeredis has no CLIENT UNBLOCK: there the join waits for the read's timeout
        assert time.monotonic() - started < 1.5
    await redis_client.xadd(first.stream, {"k": "m"})
    await asyncio.wait_for(first.got.wait(), timeout=5)
    assert len(first.rows) == len(second.rows) == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await reader.close()


async def test_a_leaver_returns_after_the_read_in_flight_and_later_entries_stay_for_the_next_owner(
    redis_client: Redis,
) -> None:
    reader = SharedReader(redis_client, "proc-a", block_ms=500)
    stay, leave = await _followers(redis_client, 2, 3)
    tasks = {f: asyncio.create_task(reader.follow(f)) for f in (stay, leave)}
    await asyncio.sleep(0.2)
    tasks[leave].cancel()
    await asyncio.gather(tasks[leave], return_exceptions=True)
    assert leave.stream not in reader._reading  # nothing naming it is in flight once the leaver returned
    await redis_client.xadd(leave.stream, {"k": "m"})
    await redis_client.xadd(stay.stream, {"k": "m"})
    await asyncio.wait_for(stay.got.wait(), timeout=5)
    await asyncio.sleep(0.6)  # a full read timeout: the left stream is not read again
    assert leave.rows == []
    groups = await redis_client.xinfo_groups(leave.stream)
    assert groups[0]["pending"] == 0 and groups[0]["lag"] == 1  # unread: the next owner's
    tasks[stay].cancel()
    await asyncio.gather(tasks[stay], return_exceptions=True)
    await reader.close()


async def test_a_failed_read_fails_every_follower_and_a_new_follow_reads_again(redis_client: Redis) -> None:
    reader = SharedReader(redis_client, "proc-a", block_ms=200)
    a, b = await _followers(redis_client, 4, 5)
    tasks = [asyncio.create_task(reader.follow(f)) for f in (a, b)]
    await asyncio.sleep(0.1)
    await redis_client.delete(b.stream)  # the next read meets NOGROUP
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)
    assert all(isinstance(r, ResponseError) for r in results)
    await _group(redis_client, b)
    again = asyncio.create_task(reader.follow(b))
    await redis_client.xadd(b.stream, {"k": "m"})
    await asyncio.wait_for(b.got.wait(), timeout=5)
    again.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await again
    await reader.close()


class BrokenOnce:
    """The read's connection, whose next XREADGROUP raises what no lost connection raises (a bug's error)."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.broken = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def xreadgroup(self, *args: Any, **kwargs: Any) -> Any:
        if self.broken:
            self.broken = False
            raise ValueError("not a redis error")
        return await self.client.xreadgroup(*args, **kwargs)


async def test_an_unexpected_error_in_the_read_fails_every_follower_logged_and_the_next_follow_reads(
    redis_client: Redis,
) -> None:
    reader = SharedReader(redis_client, "proc-a", block_ms=200)
    a, b = await _followers(redis_client, 6, 7)
    connection = reader._connection
    broken: list[BrokenOnce] = []

    async def breaking() -> Any:
        client = await connection()
        if not broken:
            broken.append(BrokenOnce(client))
        return broken[0] if broken[0].broken else client

    reader._connection = breaking  # type: ignore[method-assign]
    with capture_logs() as logs:
        tasks = [asyncio.create_task(reader.follow(f)) for f in (a, b)]
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)
    assert all(isinstance(r, ValueError) for r in results)  # none left waiting for a read that is gone
    assert "inbox_shared_read_crashed" in [entry["event"] for entry in logs]
    again = asyncio.create_task(reader.follow(a))
    await redis_client.xadd(a.stream, {"k": "m"})
    await asyncio.wait_for(a.got.wait(), timeout=5)
    again.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await again
    await reader.close()


async def test_a_cancellation_dropped_before_follow_still_ends_the_follow(redis_client: Redis) -> None:
    """Python 3.11's asyncio.wait_for, inside redis-py, can drop a cancellation (CPython gh-86296); the
    consumer then reached follow() cancelled, waited forever, and the service's shutdown with it."""
    reader = SharedReader(redis_client, "proc-a", block_ms=200)
    follower = Follower(6)
    await _group(redis_client, follower)
    entered = asyncio.Event()

    async def consumer() -> None:
        entered.set()
        with contextlib.suppress(asyncio.CancelledError):  # what the dropped cancellation looks like
            await asyncio.sleep(10)
        await reader.follow(follower)

    task = asyncio.create_task(consumer())
    await entered.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=3)
    assert done and task.cancelled()
    assert follower.stream not in reader._followers
    await reader.close()
