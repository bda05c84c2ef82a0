"""Stopping a process's workers is bounded: the partitions drain together, not one after the other, and a stop
that cannot finish is given up after INBOX_DRAIN_SECONDS plus a grace, with what it held still pending in Redis
for the next owner. Both stores (fixtures)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis

from app.inbox.inbox import Inbox, NewEntry
from app.inbox.keys import GROUP, partition_keys, partition_of
from app.metrics import Metrics
from app.state.batching import ScriptBatcher
from app.workers.consumer import ConsumerLimits
from app.workers.entries import Entry
from app.workers.pool import Workers
from tests.procs import wait_for_async

PARTITIONS = 4
LIMITS = ConsumerLimits(block_ms=200, in_flight=64, max_attempts=3, handle_timeout_s=30)


def one_person_per_partition() -> list[str]:
    people: dict[int, str] = {}
    n = 0
    while len(people) < PARTITIONS:
        person = f"26377{n:07d}"
        people.setdefault(partition_of(person, PARTITIONS), person)
        n += 1
    return list(people.values())


class SlowHandler:
    """Each entry takes `seconds`; records which ones finished."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: set[str] = set()
        self.finished: list[str] = []

    async def __call__(self, entry: Entry) -> None:
        self.started.add(entry.channel_id)
        await asyncio.sleep(self.seconds)
        self.finished.append(entry.channel_id)


def workers(redis: Redis, inbox: Inbox, handler: SlowHandler, drain_s: float) -> Workers:
    return Workers(
        redis,
        handler,
        Metrics(),
        inbox.scripts,
        partitions=PARTITIONS,
        owner_ttl_ms=3_000,
        limits=LIMITS,
        drain_s=drain_s,
        lag_gate_s=0.010,  # as in the service: its measure must end with the stop too
    )


async def _pending(redis: Redis) -> int:
    total = 0
    for partition in range(PARTITIONS):
        summary = await redis.xpending(partition_keys(partition).stream, GROUP)
        total += int(summary["pending"])
    return total


async def test_the_partitions_drain_together_and_every_current_entry_finishes(redis_client: Redis) -> None:
    inbox = Inbox(redis_client, PARTITIONS)
    handler = SlowHandler(seconds=1.0)
    pool = workers(redis_client, inbox, handler, drain_s=1.8)
    await pool.start()
    people = one_person_per_partition()
    await inbox.append([NewEntry("m", person, b"{}") for person in people for _ in range(2)])  # two each
    assert await wait_for_async(lambda: handler.started == set(people), within=10)
    started = time.monotonic()
    await pool.stop()
    took = time.monotonic() - started
    # each person's current entry finished and was acknowledged; the second stays pending for the next owner.
    # One partition after the other, those not yet stopping would go on to their second entries meanwhile.
    assert sorted(handler.finished) == sorted(people)
    assert await _pending(redis_client) == len(people)
    assert took < 1.8 + 1.0, took


async def test_a_stop_that_cannot_finish_is_given_up_and_leaves_the_entries_pending(redis_client: Redis) -> None:
    inbox = Inbox(redis_client, PARTITIONS)
    handler = SlowHandler(seconds=0.0)
    pool = workers(redis_client, inbox, handler, drain_s=0.2)
    await pool.start()
    hang = asyncio.Event()

    async def never() -> None:  # a shutdown step that never returns (a cancellation dropped, a wait not bounded)
        await hang.wait()

    pool.ownership.leave = never  # type: ignore[method-assign]
    stream = inbox.stream_for("263770000001")
    await redis_client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    started = time.monotonic()
    await asyncio.wait_for(pool.stop(grace_s=0.5), timeout=5)
    assert time.monotonic() - started < 0.2 + 0.5 + 1.0 + 1.0
    # and nothing of the workers runs on once it returned (the lifespan closes the Redis pool next)
    ours = ("inbox-", "state-batch")
    running = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(ours) and not t.done()]
    assert running == []
    # nothing is read after the stop: a later entry waits in Redis for the next owner
    await inbox.append([NewEntry("m", "263770000001", b"{}")])
    await asyncio.sleep(0.5)
    assert handler.finished == []
    groups = await redis_client.xinfo_groups(stream)
    assert groups[0]["lag"] + groups[0]["pending"] >= 1
    hang.set()


class SlowAcks(ScriptBatcher):
    """An ack write reaches the batcher `delay` seconds after it began, so a cancellation meanwhile loses its XACK
    (in the service: an ack write created but not yet run when the stop is cancelled). A delay inside the batcher's
    own send would not show it: that send is the batcher's task, which a cancelled waiter does not cancel."""

    def __init__(self, redis: Redis, delay: float) -> None:
        super().__init__(redis)
        self.delay = delay

    async def command(self, *command: Any) -> Any:
        if command[0] == "XACK":
            await asyncio.sleep(self.delay)
        return await super().command(*command)


async def test_a_stop_given_up_while_an_ack_is_on_its_way_still_writes_it(redis_client: Redis) -> None:
    """The ack was due before the stop began; the stop is given up while it waits for it. Cancelling the stop
    must not cancel the write: the entry was handled, and an ack lost would have the next owner handle it again."""
    inbox = Inbox(redis_client, PARTITIONS)
    handler = SlowHandler(seconds=0.0)
    pool = workers(redis_client, inbox, handler, drain_s=0.1)
    pool.batcher = SlowAcks(redis_client, delay=0.8)  # past drain + grace (0.4 s), within the abandon wait (1 s)
    await pool.start()
    await inbox.append([NewEntry("m", "263770000001", b"{}")])
    assert await wait_for_async(lambda: handler.finished == ["263770000001"], within=10)
    started = time.monotonic()
    await asyncio.wait_for(pool.stop(grace_s=0.3), timeout=5)
    assert time.monotonic() - started >= 0.1 + 0.3  # the stop was given up: the path under test
    assert await _pending(redis_client) == 0
