"""Appending accepted updates to the inbox: one pipelined round trip per webhook POST.

An entry holds the update's kind (`m` message, `s` status, `r` replies to queue), the channel and the data.
A repeated XADD after a dead connection may store an entry twice; the worker's handling is idempotent (the
begin script's processed ids, the status and replies dedupe), so a duplicate entry is handled once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from redis.exceptions import RedisError

from app.inbox.keys import partition_keys, partition_of
from app.state.errors import StateUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

EntryKind = Literal["m", "s", "r"]


@dataclass(frozen=True, slots=True)
class NewEntry:
    kind: EntryKind
    channel_id: str
    data: bytes


class Inbox:
    def __init__(self, redis: Redis, partitions: int) -> None:
        self.redis = redis
        self.partitions = partitions

    def stream_for(self, channel_id: str) -> str:
        return partition_keys(partition_of(channel_id, self.partitions)).stream

    async def append(self, entries: list[NewEntry]) -> list[str]:
        """Store every entry durably, in order; raises StateUnavailable when Redis did not acknowledge."""
        if not entries:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for entry in entries:
            fields: dict[str | bytes, str | bytes] = {"k": entry.kind, "c": entry.channel_id, "d": entry.data}
            pipe.xadd(self.stream_for(entry.channel_id), fields)  # type: ignore[arg-type]
        try:
            ids = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"inbox append failed: {type(exc).__name__}") from exc
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
