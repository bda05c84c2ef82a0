"""A partition stopped while its batch waits at the event-loop gate (the shared read runs that batch in its own
task, which the partition's stop does not cancel) starts nothing more once the gate opens: what was not started
stays pending in Redis for the next owner. The gate here is held shut by the test; the consumer, the shared read
and the store are the real ones. Both stores (fixtures)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from app.inbox.inbox import Inbox, NewEntry
from app.inbox.keys import partition_keys
from app.metrics import Metrics
from app.workers.consumer import ConsumerLimits, PartitionConsumer
from app.workers.entries import Entry
from app.workers.loop_gate import LoopGate
from app.workers.shared_read import SharedReader

PERSON = "263771234567"


class HeldGate(LoopGate):
    """Shut until `release` is set: an event loop that stays late."""

    def __init__(self) -> None:
        super().__init__(0.010)
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()

    @property
    def open(self) -> bool:
        return self.release.is_set()

    async def admit(self) -> None:
        self.waiting.set()
        await self.release.wait()


class WatchedConsumer(PartitionConsumer):
    """Counts the person tasks that begin after the partition stopped (nothing would ever wait for them)."""

    late_starts = 0

    async def _person(self, channel_id: str) -> None:
        if self._stopping:
            WatchedConsumer.late_starts += 1
        await super()._person(channel_id)


async def test_a_partition_stopped_while_its_batch_waits_at_the_gate_starts_nothing_more(redis_client: Redis) -> None:
    partition = 5
    stream = partition_keys(partition).stream
    handled: list[str] = []

    async def handler(entry: Entry) -> None:
        handled.append(entry.id)

    inbox = Inbox(redis_client, partitions=8)
    inbox.stream_for = lambda _channel: stream  # type: ignore[method-assign]
    gate = HeldGate()
    shared = SharedReader(redis_client, "proc-a", block_ms=200)
    limits = ConsumerLimits(block_ms=200, in_flight=64, max_attempts=3, handle_timeout_s=10)
    WatchedConsumer.late_starts = 0
    consumer = WatchedConsumer(partition, redis_client, "proc-a", handler, limits, Metrics(), gate=gate, shared=shared)
    consumer.start()
    await asyncio.sleep(0.1)  # following the shared read
    await inbox.append([NewEntry("m", PERSON, b"{}") for _ in range(3)])
    await asyncio.wait_for(gate.waiting.wait(), timeout=5)  # the batch waits at the gate
    await asyncio.wait_for(consumer.stop(drain_s=0.5), timeout=5)
    gate.release.set()  # the loop catches up after the partition stopped
    await asyncio.sleep(0.3)
    assert handled == [] and not consumer.busy
    assert WatchedConsumer.late_starts == 0  # 1 before the fix: a task begun after stop(), unseen by abandon()
    groups = await redis_client.xinfo_groups(stream)
    assert groups[0]["pending"] + groups[0]["lag"] == 3  # all still in Redis, for the next owner
    await shared.close()
