"""The workers of one service process: the ownership loop and a consumer per owned partition.

Started and stopped by the app's lifespan. `settle()` is for tests and benchmarks: it waits until every entry
in the inbox was handled and acknowledged.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from app.inbox.keys import GROUP, partition_keys
from app.inbox.scripts import InboxScripts
from app.logs import get_logger
from app.metrics import Metrics
from app.state.batching import ScriptBatcher
from app.workers.consumer import ConsumerLimits, Handler, PartitionConsumer
from app.workers.loop_gate import LoopGate
from app.workers.ownership import Ownership
from app.workers.shared_read import SharedReader

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

STOP_GRACE_S = 10.0
"""How much longer than INBOX_DRAIN_SECONDS a stop may take: reads in flight return, acks, leases given back."""
ABANDON_WAIT_S = 1.0
"""After a stop was given up, how long its cancelled tasks get to end (a cancellation may be dropped: bounded)."""


class Workers:
    def __init__(
        self,
        redis: Redis,
        handler: Handler,
        metrics: Metrics,
        scripts: InboxScripts,
        *,
        partitions: int,
        owner_ttl_ms: int,
        limits: ConsumerLimits,
        drain_s: float,
        batcher: ScriptBatcher | None = None,
        shared_read: bool | None = None,
        lag_gate_s: float = 0.0,
    ) -> None:
        """`batcher`: the state store's, so that the partitions' acks share the pipeline of each tick.
        `shared_read`: one read for all owned partitions (app/workers/shared_read.py); by default unless `redis`
        is a cluster client, whose partitions live in different slots. `lag_gate_s`: app/workers/loop_gate.py."""
        self.redis = redis
        self.batcher = batcher
        self.handler = handler
        self.metrics = metrics
        self.partitions = partitions
        self.limits = limits
        self.drain_s = drain_s
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.consumers: dict[int, PartitionConsumer] = {}
        self._leaving: set[PartitionConsumer] = set()
        if shared_read is None:
            shared_read = not isinstance(redis, RedisCluster)
        self.shared = SharedReader(redis, self.process_id, limits.block_ms) if shared_read else None
        self.slots = asyncio.Semaphore(limits.in_flight)
        """Entries held in memory by this process, all partitions together: the backlog waits in the inbox
        (durable, ordered), and the webhook keeps its share of the event loop under load."""
        self.gate = LoopGate(lag_gate_s, metrics.loop_lag, metrics.inbox_gate_waits)
        self.ownership = Ownership(
            redis,
            scripts,
            self.process_id,
            partitions,
            owner_ttl_ms,
            gained=self._gained,
            lost=self._lost,
            giving_back=self._giving_back,
        )
        self._interval = owner_ttl_ms / 3000
        self._loop: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        await self.ownership.tick()
        self.gate.start()
        self._loop = asyncio.get_running_loop().create_task(self._run(), name="inbox-ownership")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
            except TimeoutError:
                pass
            if not self._stopping.is_set():
                await self.ownership.tick()

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Drain what each person is being handled for, then give every partition back: at most `drain_s` plus
        `grace_s`. Past that the shutdown goes on without it, since nothing held in memory is lost: the entries
        are pending in Redis and the replies in the outboxes, taken over once this process's leases run out."""
        self._stopping.set()
        stopping = asyncio.get_running_loop().create_task(self._stop(), name="inbox-stop")
        # asyncio.wait, not wait_for: wait_for would wait for the cancelled stop to end, which is what may not happen
        done, _ = await asyncio.wait({stopping}, timeout=self.drain_s + grace_s)
        if not done:
            stopping.cancel()
            abandoned = [*self.consumers.values(), *self._leaving]
            tasks = {stopping, *(task for consumer in abandoned for task in consumer.abandon())}
            if self.shared is not None:
                tasks.update(self.shared.abandon())
            if self.batcher is not None:
                tasks.update(self.batcher.in_flight)  # the ack and state writes already on their way
            log.error("workers_stop_timed_out", seconds=self.drain_s + grace_s, partitions=len(abandoned))
            # a moment for the cancelled tasks to end, so that the pool they use is not closed under them
            await asyncio.wait(tasks, timeout=ABANDON_WAIT_S)
            await self.gate.stop()
            return
        stopping.result()
        log.info("workers_stopped", process=self.process_id)

    async def _stop(self) -> None:
        if self._loop is not None:
            await asyncio.gather(self._loop, return_exceptions=True)
        await self.ownership.leave()
        if self.shared is not None:
            await self.shared.close()
        await self.gate.stop()

    async def _gained(self, partition: int) -> None:
        consumer = PartitionConsumer(
            partition,
            self.redis,
            self.process_id,
            self.handler,
            self.limits,
            self.metrics,
            slots=self.slots,
            gate=self.gate,
            batcher=self.batcher,
            shared=self.shared,
        )
        self.consumers[partition] = consumer
        consumer.start()

    async def _lost(self, partition: int) -> None:
        await self._stop_consumer(partition, drain_s=0)

    async def _giving_back(self, partition: int) -> None:
        await self._stop_consumer(partition, drain_s=self.drain_s)

    async def _stop_consumer(self, partition: int, drain_s: float) -> None:
        consumer = self.consumers.pop(partition, None)
        if consumer is None:
            return
        self._leaving.add(consumer)  # until it stopped: a stop given up abandons it too
        try:
            await consumer.stop(drain_s=drain_s)
        finally:
            self._leaving.discard(consumer)

    async def settle(self, within: float = 10.0) -> None:
        """Wait until every partition's entries were all read and acknowledged (by any process)."""
        deadline = time.monotonic() + within
        while True:
            if await self._all_handled():
                return
            if time.monotonic() > deadline:
                raise TimeoutError("inbox not drained in time")
            await asyncio.sleep(0.005)

    async def _all_handled(self) -> bool:
        try:
            pipe = self.redis.pipeline(transaction=False)
            for partition in range(self.partitions):
                pipe.xinfo_groups(partition_keys(partition).stream)
            results = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError):
            return False
        for groups in results:
            if isinstance(groups, Exception):  # no stream yet: nothing was ever appended there
                continue
            group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
            if group is None or group.get("pending") or group.get("lag"):
                return False
        return True
