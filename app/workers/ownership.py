"""Which inbox partitions this process reads: an owner lease per partition, shared out fairly.

Every tick a process renews its heartbeat in MEMBERS, counts the live processes (n) and aims at
ceil(partitions / n) partitions: it renews the leases it holds, gives back extras (after draining them) and
takes free ones. A process that dies stops renewing; its partitions are free after INBOX_OWNER_TTL_MS and the
others take them, with every entry it held. One owner per partition is what keeps a person's messages in
order across processes; the channel lease and the begin script's dedupe cover the moments between owners.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from app.inbox.keys import MEMBERS, partition_keys, partition_of
from app.inbox.scripts import InboxScripts
from app.logs import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

Change = Callable[[int], Awaitable[None]]


class Ownership:
    def __init__(
        self,
        redis: Redis,
        scripts: InboxScripts,
        process_id: str,
        partitions: int,
        ttl_ms: int,
        *,
        gained: Change,
        lost: Change,
        giving_back: Change,
    ) -> None:
        self.redis = redis
        self.scripts = scripts
        self.process_id = process_id
        self.partitions = partitions
        self.ttl_ms = ttl_ms
        self._gained, self._lost, self._giving_back = gained, lost, giving_back
        self.owned: dict[int, float] = {}
        """Partition -> monotonic time until which our lease surely holds (renewal time + TTL - a margin)."""
        self._start = partition_of(process_id, partitions)

    def _safe_until(self, renewed_at: float) -> float:
        return renewed_at + self.ttl_ms / 1000 * 2 / 3

    async def tick(self) -> None:
        """One round of heartbeat, renewals, give-backs and claims; never raises for a store failure."""
        now = time.monotonic()
        try:
            live = await self._heartbeat()
        except (RedisError, OSError) as exc:
            log.warning("inbox_heartbeat_failed", error=type(exc).__name__)
            await self._drop_expired(now)
            return
        share = math.ceil(self.partitions / max(1, live))
        for partition in list(self.owned):
            renewed = await self._own(partition)
            if renewed:
                self.owned[partition] = self._safe_until(now)
            elif renewed is False or self.owned.get(partition, 0) < time.monotonic():
                await self._lose(partition)
        for partition in sorted(self.owned, reverse=True)[: max(0, len(self.owned) - share)]:
            await self.give_back(partition)
        for offset in range(self.partitions):
            if len(self.owned) >= share:
                break
            partition = (self._start + offset) % self.partitions
            if partition not in self.owned and await self._own(partition):
                self.owned[partition] = self._safe_until(now)
                log.info("inbox_partition_taken", partition=partition)
                await self._gained(partition)

    async def _heartbeat(self) -> int:
        now_ms = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(MEMBERS, {self.process_id: now_ms + self.ttl_ms})
        pipe.zremrangebyscore(MEMBERS, "-inf", now_ms)
        pipe.zcard(MEMBERS)
        pipe.pexpire(MEMBERS, self.ttl_ms * 10)
        return int((await pipe.execute())[2])

    async def _own(self, partition: int) -> bool | None:
        """True: ours for the next TTL; False: another process's; None: the store did not answer."""
        keys = [partition_keys(partition).owner]
        try:
            return bool(await self.scripts.partition_own(keys=keys, args=[self.process_id, self.ttl_ms]))
        except (RedisError, OSError):
            return None

    async def _drop_expired(self, now: float) -> None:
        for partition, safe_until in list(self.owned.items()):
            if safe_until < now:
                await self._lose(partition)

    async def _lose(self, partition: int) -> None:
        """Our lease may have passed to another process: stop at once, acknowledge nothing more."""
        self.owned.pop(partition, None)
        log.warning("inbox_partition_lost", partition=partition)
        await self._lost(partition)

    async def give_back(self, partition: int) -> None:
        self.owned.pop(partition, None)
        await self._giving_back(partition)
        try:
            await self.scripts.partition_release(keys=[partition_keys(partition).owner], args=[self.process_id])
        except (RedisError, OSError):
            pass  # the lease runs out by itself
        log.info("inbox_partition_given_back", partition=partition)

    async def leave(self) -> None:
        """Shutdown: give back every partition and leave the members set, so others take over at once. The
        partitions drain together: one after the other, 8 of them could take 8 times `INBOX_DRAIN_SECONDS`."""
        await asyncio.gather(*(self.give_back(partition) for partition in list(self.owned)))
        try:
            await self.redis.zrem(MEMBERS, self.process_id)
        except (RedisError, OSError):
            pass
