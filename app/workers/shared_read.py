"""One blocking XREADGROUP for every inbox partition this process reads, outside Redis Cluster.

Each partition's consumer takes over what others left, reads its own pending entries, then follows this read
instead of blocking on its stream alone: one read returns the new entries of every partition at once, so a
process reading 8 partitions under load makes a fraction of the reads (and event-loop wake-ups) it would make
with 8 readers, each returning an entry or two (bench/RESULTS.md). In Redis Cluster the streams live in
different slots and one command cannot name them all: there every consumer keeps its own read.

The read runs on a connection of its own, so that a partition joining or leaving can cut the wait short with
CLIENT UNBLOCK (the blocked read then returns nothing, as on a timeout: no entry is lost). A consumer leaving
waits until no read naming its stream is in flight, so every entry delivered to this process for that
partition is pending in Redis before its lease is given back, where the next owner takes it over.
A failed read fails every follower: each starts over (take-over, own pending entries), which also recovers
entries a lost reply had delivered.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from redis.exceptions import RedisError

from app.inbox.keys import GROUP
from app.logs import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

READ_COUNT = 100


class Follower(Protocol):
    @property
    def stream(self) -> str: ...

    async def take(self, rows: list[Any]) -> None: ...


class SharedReader:
    def __init__(self, redis: Redis, name: str, block_ms: int) -> None:
        self.redis = redis
        self.name = name
        self.block_ms = block_ms
        self._followers: dict[str, tuple[Follower, asyncio.Future[None]]] = {}
        self._reading: frozenset[str] = frozenset()
        self._read_done = asyncio.Condition()
        self._client: Redis | None = None
        self._client_id: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.reads = 0

    async def follow(self, follower: Follower) -> None:
        """Hand `follower` the new entries of its stream until the shared read fails (raises its error) or the
        caller is cancelled; in both cases returns only once no read naming the stream is in flight."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._followers[follower.stream] = (follower, future)
        await self._wake()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="inbox-shared-read")
        try:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # cancelled while in a redis-py call that dropped it (its asyncio.wait_for does on Python 3.11,
                # CPython gh-86296): nothing would ever resolve `future`, and a shutdown would wait forever
                raise asyncio.CancelledError
            await future
        finally:
            current = self._followers.get(follower.stream)
            if current is not None and current[1] is future:
                del self._followers[follower.stream]
            if follower.stream in self._reading:
                await self._wake()
                async with self._read_done:
                    await self._read_done.wait_for(lambda: follower.stream not in self._reading)

    def abandon(self) -> list[asyncio.Task[None]]:
        """A stop that could not finish: end the read without waiting (see Workers.stop)."""
        if self._task is None:
            return []
        self._task.cancel()
        return [self._task]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while self._followers:
            streams: dict[Any, Any] = dict.fromkeys(self._followers, ">")
            self._reading = frozenset(streams)
            try:
                client = await self._connection()
                reply: Any = await client.xreadgroup(GROUP, self.name, streams, count=READ_COUNT, block=self.block_ms)
                self.reads += 1
            except Exception as exc:  # every follower starts over: none may wait for a read that is gone
                if not isinstance(exc, RedisError | OSError):
                    log.exception("inbox_shared_read_crashed")  # a bug, not a lost connection
                self._client_id = None
                await self._finish_read()
                self._fail(exc)
                continue  # no follower is left: the loop ends, the next follow starts a new read
            except BaseException:
                await self._finish_read()
                raise
            await self._finish_read()
            got = {(s.decode() if isinstance(s, bytes) else s): rows for s, rows in reply or []}
            for stream, (follower, future) in list(self._followers.items()):
                try:
                    await follower.take(got.get(stream, []))  # also with none: its trim is due now and then
                except Exception as exc:  # a bug must not stop the other partitions: that one starts over
                    log.exception("inbox_shared_read_take_failed")
                    if not future.done():
                        future.set_exception(exc)
            # a stream that left while the read was in flight: its rows stay pending here, the next owner's

    async def _connection(self) -> Redis:
        if self._client is None:
            self._client = self.redis.client()
        if self._client_id is None:
            self._client_id = int(await self._client.client_id())
        return self._client

    async def _finish_read(self) -> None:
        self._reading = frozenset()
        async with self._read_done:
            self._read_done.notify_all()

    def _fail(self, exc: BaseException) -> None:
        log.warning("inbox_shared_read_failed", error=type(exc).__name__, partitions=len(self._followers))
        for _, future in list(self._followers.values()):
            if not future.done():
                future.set_exception(exc)
        self._followers.clear()

    async def _wake(self) -> None:
        """Cut a blocked read short so that it is issued again with the current followers."""
        if self._client_id is None or not self._reading:
            return
        try:
            await self.redis.client_unblock(self._client_id)
        except (RedisError, OSError):  # at worst the new set is read after this read's timeout
            pass
