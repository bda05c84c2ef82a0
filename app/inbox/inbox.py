"""Appending accepted updates to the inbox: one pipelined round trip per webhook POST, shared with whatever other
script calls the same event-loop tick makes.

An entry holds the update's kind (`m` message, `s` status, `r` replies to queue), the channel and the data.
Each append is the `inbox_append` script (one partition, one slot), which refuses when the partition already holds
INBOX_MAX_ENTRIES: the inbox is bounded, and a full one answers 503 so that Meta keeps the update and retries.
A repeated append after a dead connection may store an entry twice; the worker's handling is idempotent (the
begin script's processed ids, the status and replies dedupe), so a duplicate entry is handled once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from redis.exceptions import RedisError

from app.inbox.keys import partition_keys, partition_of
from app.inbox.scripts import InboxScripts
from app.state.batching import ScriptBatcher
from app.state.errors import StateUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

EntryKind = Literal["m", "s", "r"]


@dataclass(frozen=True, slots=True)
class NewEntry:
    kind: EntryKind
    channel_id: str
    data: bytes


class InboxFull(StateUnavailable):
    """A partition holds INBOX_MAX_ENTRIES unhandled entries: refuse (503) rather than grow without bound."""


class Inbox:
    """`batcher` is the state store's in the service, so that the appends of concurrent POSTs and the workers'
    begin/commit scripts of the same event-loop tick share one pipeline (one socket write, one read)."""

    def __init__(
        self, redis: Redis, partitions: int, max_entries: int = 1_000_000, batcher: ScriptBatcher | None = None
    ) -> None:
        self.redis = redis
        self.partitions = partitions
        self.max_entries = max_entries
        self.scripts = InboxScripts.register(redis)
        self.batcher = batcher if batcher is not None else ScriptBatcher(redis)

    def stream_for(self, channel_id: str) -> str:
        return partition_keys(partition_of(channel_id, self.partitions)).stream

    async def append(self, entries: list[NewEntry]) -> list[str]:
        """Store every entry durably, in order, in one pipelined round trip; raises StateUnavailable when Redis
        did not acknowledge them all (then the webhook answers 503, and Meta's retry is deduplicated). A server
        that lost the scripts is answered by the batcher, which loads the script and reruns just the refused calls."""
        if not entries:
            return []
        script = self.scripts.inbox_append
        calls = [
            (script, [self.stream_for(e.channel_id)], [self.max_entries, e.kind, e.channel_id, e.data]) for e in entries
        ]
        try:
            ids = await self.batcher.call_many(calls)
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"inbox append failed: {type(exc).__name__}") from exc
        if any(i is None for i in ids):
            raise InboxFull("an inbox partition is full")
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
