"""Per-channel records kept beside the conversation state: the development outbox and delivery statuses."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.state.keys import channel_keys
from app.state.redis_atomic import RedisAtomic

OUTBOX_KEEP = 200
OUTBOX_TTL_MS = 24 * 3600 * 1000
STATUSES_KEEP = 500


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    message_json: str


class SideRecords:
    def __init__(self, redis_atomic: RedisAtomic) -> None:
        self.ra = redis_atomic

    async def outbox_push(self, channel_id: str, messages_json: list[str]) -> int:
        """Append in order, keep the last OUTBOX_KEEP; returns the last sequence number."""
        if not messages_json:
            return 0
        k = channel_keys(channel_id)
        script = self.ra.scripts.outbox_push
        args: list[str | int] = [OUTBOX_KEEP, OUTBOX_TTL_MS, *messages_json]
        return int(await self.ra.guard(self.ra.batcher.call(script, [k.outbox, k.outbox_seq], args)))

    async def outbox_read(self, channel_id: str, after: int = 0) -> list[OutboxEntry]:
        k = channel_keys(channel_id)
        members = await self.ra.guard(self.ra.redis.zrangebyscore(k.outbox, f"({after}", "+inf"))
        entries = []
        for member in members:
            text = member.decode() if isinstance(member, bytes) else member
            seq, _, body = text.partition(" ")
            entries.append(OutboxEntry(int(seq), body))
        return entries

    async def mark_status(self, channel_id: str, status_id: str, status: str) -> bool:
        """True the first time (status id, status) is seen for this channel."""
        k = channel_keys(channel_id)
        args: list[str | int] = [
            f"{status_id}:{status}",
            int(time.time() * 1000),
            STATUSES_KEEP,
            self.ra.processed_ttl_ms,
        ]
        return bool(await self.ra.guard(self.ra.batcher.call(self.ra.scripts.mark_status, [k.statuses], args)))
