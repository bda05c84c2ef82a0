"""RedisAtomic: the low-level atomic operations, each one Lua script and one round trip."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.state.batching import ScriptBatcher
from app.state.cluster import check_mode, every_primary
from app.state.errors import CommitRefused, StateUnavailable
from app.state.keys import STATE_PATTERN, channel_keys
from app.state.scripts import Scripts

if TYPE_CHECKING:
    from redis.asyncio import Redis


INTENT_TTL_MS = 7 * 24 * 3600 * 1000
"""An unfinished write is reconciled on the person's next try of it, however late (Meta retries for 7 days)."""


@dataclass(frozen=True, slots=True)
class Begun:
    version: int
    core: bytes | None
    flow: bytes | None
    known: bool


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Already processed; `replies` are what is still unsent in the channel's reply outbox."""

    replies: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Committed:
    version: int
    replies: tuple[bytes, ...]
    """Every reply still in the channel's outbox after the commit, oldest first: this session's and any left
    unsent by an earlier one."""


@dataclass(frozen=True, slots=True)
class Busy:
    retry_ms: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    core: bytes | None
    flow: bytes | None


class RedisAtomic:
    def __init__(
        self,
        redis: Redis,
        *,
        state_ttl_ms: int,
        lease_ms: int,
        processed_ids: int,
        processed_ttl_ms: int,
        replies_ttl_ms: int = 24 * 3600 * 1000,
        ack_retry_s: float = 0.0,
    ) -> None:
        self.redis = redis
        self.scripts = Scripts.register(redis)
        self.batcher = ScriptBatcher(redis)
        self.state_ttl_ms = state_ttl_ms
        self.lease_ms = lease_ms
        self.processed_ids = processed_ids
        self.processed_ttl_ms = processed_ttl_ms
        self.replies_ttl_ms = replies_ttl_ms
        self.ack_retry_s = ack_retry_s
        self.done_ttl_ms = max(60_000, 2 * lease_ms)

    async def guard(self, coro: Any) -> Any:
        """Every store failure surfaces as StateUnavailable, never as a hang or a raw redis error."""
        try:
            return await coro
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StateUnavailable(f"state store unreachable: {type(exc).__name__}") from exc
        except RedisError as exc:
            raise StateUnavailable(f"state store error: {type(exc).__name__}: {exc}") from exc

    async def load_scripts(self) -> None:
        """On a cluster, SCRIPT LOAD reaches every primary (redis-py sends it to each)."""
        await self.guard(check_mode(self.redis))
        await self.guard(self.scripts.load(self.redis))

    async def ready(self) -> bool:
        """Every primary answers and holds every script (a promoted replica may lack them: then False)."""
        await self.guard(check_mode(self.redis))
        await self.guard(self.redis.ping(**every_primary(self.redis)))
        return bool(await self.guard(self.scripts.loaded(self.redis)))

    async def begin(self, channel_id: str, message_id: str, token: str) -> Begun | Duplicate | Busy:
        k = channel_keys(channel_id)
        reply = await self.guard(
            self.batcher.call(
                self.scripts.begin, [k.state, k.lease, k.seen, k.replies], [message_id, token, self.lease_ms]
            )
        )
        tag = _text(reply[0])
        if tag == "dup":
            return Duplicate(tuple(reply[1:]))
        if tag == "busy":
            return Busy(max(int(reply[1]), 0))
        return Begun(int(reply[1]), reply[2] or None, reply[3] or None, bool(reply[4]))

    async def commit(
        self,
        channel_id: str,
        token: str,
        expected_version: int,
        core: bytes,
        flow: bytes,
        message_id: str,
        replies: list[bytes] | None = None,
        finished_intents: list[str] | None = None,
    ) -> Committed:
        """Write state and replies and release; raises CommitRefused (nothing written) when the lease or
        version moved. Safe to retry with the same token after a dead connection (the done marker)."""
        k = channel_keys(channel_id)
        args: list[bytes | str | int] = [
            token,
            expected_version,
            core,
            flow,
            self.state_ttl_ms,
            message_id,
            int(time.time() * 1000),
            self.processed_ids,
            self.processed_ttl_ms,
            self.replies_ttl_ms,
            self.done_ttl_ms,
            len(replies or []),
            *(replies or []),
            *(finished_intents or []),
        ]
        keys = [k.state, k.lease, k.seen, k.replies, k.done, k.intents]
        reply = await self.guard(self.batcher.call(self.scripts.commit, keys, args))
        tag = _text(reply[0])
        if tag == "ok":
            return Committed(int(reply[1]), tuple(reply[2:]))
        raise CommitRefused(tag, int(reply[1]) if len(reply) > 1 else None)

    async def abort(self, channel_id: str, token: str) -> bool:
        k = channel_keys(channel_id)
        return bool(await self.guard(self.scripts.abort(keys=[k.lease], args=[token])))

    async def extend(self, channel_id: str, token: str) -> bool:
        k = channel_keys(channel_id)
        return bool(await self.guard(self.batcher.call(self.scripts.extend, [k.lease], [token, self.lease_ms])))

    async def begin_intent(
        self, channel_id: str, token: str, op_id: str, intent: bytes, *, replace: bool = False
    ) -> bytes | bool | None:
        """False: the lease is lost (no write); None: recorded, write now; bytes: an earlier try's intent."""
        k = channel_keys(channel_id)
        args: list[bytes | str | int] = [token, self.lease_ms, op_id, intent, INTENT_TTL_MS, int(replace)]
        reply = await self.guard(self.batcher.call(self.scripts.intent_begin, [k.lease, k.intents], args))
        tag = _text(reply[0])
        if tag == "lost":
            return False
        return bytes(reply[1]) if tag == "again" else None

    async def ack_reply(self, channel_id: str, reply: bytes) -> bool:
        """Remove a delivered reply from the head of the outbox (False: it was not the head any more).

        The reply is already sent: an ack given up would have it sent again by the entry's redelivery. So while
        the store does not answer (a restart, a cluster failover) the ack is tried again, backing off, for up to
        `ack_retry_s`; a repeat is harmless (it removes only the head it names)."""
        k = channel_keys(channel_id)
        deadline = time.monotonic() + self.ack_retry_s
        delay = 0.05
        while True:
            try:
                return bool(await self.guard(self.batcher.call(self.scripts.outbox_ack, [k.replies], [reply])))
            except StateUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def enqueue_replies(self, channel_id: str, work_id: str, replies: list[bytes]) -> tuple[bytes, ...]:
        """Queue replies outside a session, once per work id; returns the whole unsent outbox."""
        k = channel_keys(channel_id)
        args: list[bytes | str | int] = [
            work_id,
            int(time.time() * 1000),
            self.processed_ttl_ms,
            self.replies_ttl_ms,
            *replies,
        ]
        return tuple(await self.guard(self.batcher.call(self.scripts.outbox_enqueue, [k.replies, k.seen], args)))

    async def clear_flow(self, channel_id: str, empty_flow: bytes) -> int | Busy | None:
        """New version, Busy when a session holds the channel, None when there is no state."""
        k = channel_keys(channel_id)
        reply = await self.guard(self.scripts.clear_flow(keys=[k.state, k.lease], args=[empty_flow, self.state_ttl_ms]))
        tag = _text(reply[0])
        if tag == "busy":
            return Busy(max(int(reply[1]), 0))
        return int(reply[1]) if tag == "ok" else None

    async def delete_session(self, channel_id: str) -> int:
        k = channel_keys(channel_id)
        return int(await self.guard(self.scripts.delete_session(keys=[k.state, k.lease])))

    async def read(self, channel_id: str) -> Snapshot:
        """A lease-free snapshot (admin views, execute_atomic 'get'): one HMGET."""
        k = channel_keys(channel_id)
        v, core, flow = await self.guard(self.redis.hmget(k.state, ["v", "core", "flow"]))
        return Snapshot(int(v or 0), core, flow)

    async def ttl_ms(self, channel_id: str) -> int:
        return int(await self.guard(self.redis.pttl(channel_keys(channel_id).state)))

    async def scan_channels(self, count: int = 500) -> AsyncIterator[str]:
        """Live sessions, by SCAN (never KEYS), on every primary of a cluster: yields channel ids."""
        keys = self.redis.scan_iter(match=STATE_PATTERN, count=count, _type="hash")
        while True:
            try:
                key = await self.guard(anext(keys))
            except StopAsyncIteration:
                return
            name = _text(key)
            yield name[name.index("{") + 1 : name.rindex("}")]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
