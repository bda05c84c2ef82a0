"""One inbox partition, read by the process that owns it: entries in stream order, each person's strictly one
after the other, different people concurrently.

On start the consumer takes over every entry another consumer left pending (a process that died or gave the
partition up), then reads its own pending entries, then new ones with a blocking read: no polling interval.
An entry is acknowledged only after its handling (the commit and the delivery of its replies) returned, so a
crash at any point leaves it pending for the next owner, whose handling is idempotent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError, ResponseError

from app.inbox.keys import GROUP, partition_keys
from app.logs import get_logger
from app.metrics import Metrics
from app.state.batching import ScriptBatcher
from app.state.errors import StateError, StateUnavailable
from app.workers.entries import Entry, PoisonEntry
from app.workers.loop_gate import LoopGate
from app.workers.shared_read import READ_COUNT, SharedReader

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

Handler = Callable[[Entry], Awaitable[None]]
TRIM_EVERY_S = 5.0
RETRY_BASE_S = 0.05
RETRY_CAP_S = 2.0


@dataclass(frozen=True, slots=True)
class ConsumerLimits:
    block_ms: int
    in_flight: int
    max_attempts: int
    handle_timeout_s: float


class PartitionConsumer:
    def __init__(
        self,
        partition: int,
        redis: Redis,
        name: str,
        handler: Handler,
        limits: ConsumerLimits,
        metrics: Metrics,
        *,
        slots: asyncio.Semaphore | None = None,
        gate: LoopGate | None = None,
        batcher: ScriptBatcher | None = None,
        shared: SharedReader | None = None,
    ) -> None:
        """`shared`: the process's one read over all its partitions (not in Redis Cluster), else a read of its own."""
        self.partition = partition
        self.keys = partition_keys(partition)
        self.redis = redis
        self.name = name
        self.handler = handler
        self.limits = limits
        self.metrics = metrics
        self._slots = slots or asyncio.Semaphore(limits.in_flight)
        self._gate = gate
        self._batcher = batcher if batcher is not None else ScriptBatcher(redis)
        self._shared = shared
        self._queues: dict[str, deque[Entry]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._queued: set[str] = set()
        self._acks: list[str] = []
        self._ack_scheduled = False
        self._ack_writes: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_trim = time.monotonic()
        self.handled = 0

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name=f"inbox-p{self.partition}")

    @property
    def stream(self) -> str:
        return self.keys.stream

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def stop(self, drain_s: float) -> None:
        """Stop reading; let each person's current entry finish (at most `drain_s`); what is left stays pending
        for the next owner. Acks already due are written before it returns."""
        self._stopping = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=drain_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._acks:
            self._start_ack_write()
        # the acks on their way: returned before they landed, the next owner would handle them again. wait, not
        # gather: a stop given up cancels this one, and must not cancel with it a write that has not yet queued
        # its XACK (a task created but not yet run); abandon() returns them for the caller's last wait. An error
        # _flush_acks does not expect is left for asyncio to report, as for every other ack write
        if self._ack_writes:
            await asyncio.wait(set(self._ack_writes))

    def abandon(self) -> list[asyncio.Task[None]]:
        """A stop that could not finish: stop reading and handling without waiting; what is held stays pending.
        Returns the tasks cancelled and the ack writes on their way (left to finish: an ack written saves a
        handling again), for the caller to give a moment to end."""
        self._stopping = True
        tasks = [task for task in [self._reader, *self._tasks.values()] if task is not None]
        for task in tasks:
            task.cancel()
        return [*tasks, *self._ack_writes]

    # -- reading ---------------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self._ensure_group()
                await self._take_over()
                await self._read(cursor="0")
                failures = 0
                if self._shared is not None:
                    await self._shared.follow(self)  # until stop() cancels it; raises when the shared read failed
                while not self._stopping:
                    await self._read(cursor=">")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, StateError) as exc:
                failures += 1
                log.warning("inbox_read_failed", partition=self.partition, error=type(exc).__name__)
                await asyncio.sleep(_backoff(failures))
            except Exception:  # a bug must not silently stop a partition: log it and start over
                failures += 1
                log.exception("inbox_reader_crashed", partition=self.partition)
                await asyncio.sleep(_backoff(failures))

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.keys.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _take_over(self) -> None:
        """Claim every entry other consumers of this partition left pending, oldest first."""
        start = "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.keys.stream, GROUP, self.name, min_idle_time=0, start_id=start, count=READ_COUNT
            )
            start = _text(reply[0])
            claimed = len(reply[1])
            if claimed:
                self.metrics.inbox_reclaimed.inc(claimed)
                log.info("inbox_taken_over", partition=self.partition, entries=claimed)
            if start == "0-0":
                break
        for consumer in await self.redis.xinfo_consumers(self.keys.stream, GROUP):
            name = _text(consumer["name"])
            if name != self.name and int(consumer.get("pending", 0)) == 0:
                await self.redis.xgroup_delconsumer(self.keys.stream, GROUP, name)

    async def _read(self, cursor: str) -> None:
        """cursor "0": this consumer's own pending entries (paged); ">": new entries, blocking."""
        while not self._stopping:
            block = self.limits.block_ms if cursor == ">" else None
            reply = await self.redis.xreadgroup(
                GROUP, self.name, {self.keys.stream: cursor}, count=READ_COUNT, block=block
            )
            result: Any = reply
            rows: list[Any] = result[0][1] if result else []
            if cursor == ">":
                await self.take(rows)
                return
            await self._take_rows(rows)
            if not rows:
                return
            cursor = _text(rows[-1][0])

    async def take(self, rows: list[Any]) -> None:
        """New entries of this partition (from its own read or the shared one), then a trim when one is due."""
        if self._stopping:
            return  # left pending: the next owner takes them over
        await self._take_rows(rows)
        await self._maybe_trim()

    async def _take_rows(self, rows: list[Any]) -> None:
        for entry_id, fields in rows:
            if self._stopping:
                return  # stopped while this batch waited for the gate or a slot: the rest stays pending
            if fields:  # a pending entry trimmed away reads as an empty record
                await self._dispatch(Entry.from_stream(entry_id, fields))
            else:
                self._ack(_text(entry_id))

    async def _dispatch(self, entry: Entry) -> None:
        if entry.id in self._queued:
            return
        if self._gate is not None:
            await self._gate.admit()  # bounded: the webhook's POSTs first while the event loop runs late
        await self._slots.acquire()  # bounded: at most `in_flight` entries held in memory
        if self._stopping:  # stopped meanwhile: left pending for the next owner, no task started after stop()
            self._slots.release()
            return
        self._queued.add(entry.id)
        self._queues.setdefault(entry.channel_id, deque()).append(entry)
        if entry.channel_id not in self._tasks:
            task = asyncio.get_running_loop().create_task(
                self._person(entry.channel_id), name=f"inbox-p{self.partition}-person"
            )
            self._tasks[entry.channel_id] = task

    # -- one person ------------------------------------------------------------------------------------
    async def _person(self, channel_id: str) -> None:
        queue = self._queues[channel_id]
        try:
            while queue and not self._stopping:
                entry = queue[0]
                if await self._process(entry):
                    self._ack(entry.id)
                    self.handled += 1
                queue.popleft()
                self._queued.discard(entry.id)
                self._slots.release()
        finally:
            if self._stopping:  # hand back the rest: pending in Redis, taken over by the next owner
                while queue:
                    self._queued.discard(queue.popleft().id)
                    self._slots.release()
            del self._queues[channel_id]
            del self._tasks[channel_id]

    async def _process(self, entry: Entry) -> bool:
        """True once handled (or given up and dead-lettered); False when this process should not ack it."""
        failures = attempt = 0
        while not self._stopping:
            try:
                async with asyncio.timeout(self.limits.handle_timeout_s):
                    await self.handler(entry)
                return True
            except StateUnavailable:
                cause = "store_unavailable"  # not the entry's fault: retried for as long as we own the partition
            except StateError as exc:
                cause, failures = type(exc).__name__, failures + 1
            except TimeoutError:
                cause, failures = "timeout", failures + 1
            except PoisonEntry:
                return await self._bury(entry, "unreadable")
            except Exception:
                log.exception("inbox_entry_failed", entry=entry.id, kind=entry.kind)
                cause, failures = "error", failures + 1
            self.metrics.inbox_retries.labels(_cause(cause)).inc()
            if failures >= self.limits.max_attempts:
                return await self._bury(entry, cause)
            attempt += 1
            await asyncio.sleep(_backoff(attempt))
        return False

    async def _bury(self, entry: Entry, cause: str) -> bool:
        fields: dict[str, str | bytes] = {"k": entry.kind, "c": entry.channel_id, "d": entry.data, "why": cause}
        try:
            await self.redis.xadd(self.keys.dead, fields, maxlen=10_000, approximate=True)  # type: ignore[arg-type]
        except (RedisError, OSError):
            return False  # kept pending: better handled late than lost
        self.metrics.inbox_dead.inc()
        log.error("inbox_entry_dead_lettered", entry=entry.id, kind=entry.kind, cause=cause)
        return True

    # -- acknowledgement and trimming ------------------------------------------------------------------
    def _ack(self, entry_id: str) -> None:
        """Acks of one event-loop tick travel together as one XACK, in the pipeline of the scripts of that tick."""
        self._acks.append(entry_id)
        if not self._ack_scheduled:
            self._ack_scheduled = True
            asyncio.get_running_loop().call_soon(self._start_ack_write)

    def _start_ack_write(self) -> None:
        write = asyncio.get_running_loop().create_task(self._flush_acks(), name=f"inbox-p{self.partition}-ack")
        self._ack_writes.add(write)
        write.add_done_callback(self._ack_writes.discard)

    async def _flush_acks(self) -> None:
        self._ack_scheduled = False
        ids, self._acks = self._acks, []
        if not ids:
            return
        try:
            await self._batcher.command("XACK", self.keys.stream, GROUP, *ids)
        except (RedisError, OSError) as exc:  # left pending: the next reader's handling is idempotent
            log.warning("inbox_ack_failed", partition=self.partition, entries=len(ids), error=type(exc).__name__)

    async def _maybe_trim(self) -> None:
        """Drop handled entries: everything older than the oldest pending one (or than the last delivered)."""
        if time.monotonic() - self._last_trim < TRIM_EVERY_S:
            return
        self._last_trim = time.monotonic()
        summary = await self.redis.xpending(self.keys.stream, GROUP)
        floor = summary.get("min") if summary and summary.get("pending") else None
        if floor is None:
            groups = await self.redis.xinfo_groups(self.keys.stream)
            floor = next((g["last-delivered-id"] for g in groups if _text(g["name"]) == GROUP), None)
        if floor is not None:
            await self.redis.xtrim(self.keys.stream, minid=_text(floor), approximate=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _backoff(attempt: int) -> float:
    step = min(RETRY_CAP_S, RETRY_BASE_S * 2 ** min(attempt, 10))
    return float(step / 2 + random.uniform(0, step / 2))  # noqa: S311 - jitter, not crypto


_CAUSES = frozenset(
    {"unreadable", "store_unavailable", "ChannelBusy", "CommitRefused", "StateValidationError", "timeout", "error"}
)


def _cause(cause: str) -> str:
    return cause if cause in _CAUSES else "other"
