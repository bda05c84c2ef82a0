"""StateStore: `async with store.session(channel, message_id) as state` — begin, work, commit or abort.

One EVALSHA on enter (duplicate? busy? else lease + state), one on a clean exit (version-checked write, TTL
renewed, message id remembered, the queued replies appended to the channel's reply outbox, lease released); an
exception releases the lease and writes nothing, so a redelivery of the same message is handled again.
After the session, `state.outbox` holds every reply still unsent for the channel: the sender's work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson

from app.logs import get_logger
from app.state.atomic import AtomicStateManager, new_token
from app.state.errors import CommitRefused, CorruptState
from app.state.local_locks import KeyedLocks
from app.state.manager import StateManager
from app.state.models import ConversationState
from app.state.redis_atomic import Duplicate, RedisAtomic
from app.state.validator import StateValidator

log = get_logger(__name__)

EncodeReplies = Callable[[str, str, list[Any]], list[bytes]]
"""(channel, message id, queued replies) -> the JSON documents the reply outbox holds."""


def _plain_replies(channel_id: str, message_id: str, replies: list[Any]) -> list[bytes]:
    return [orjson.dumps({"to": channel_id, "id": f"{message_id}.{n}", "m": r}) for n, r in enumerate(replies)]


class StateStore:
    def __init__(
        self,
        atomic: AtomicStateManager,
        *,
        encode_replies: EncodeReplies = _plain_replies,
        renew_margin_ms: int | None = None,
    ) -> None:
        self.atomic = atomic
        self.encode_replies = encode_replies
        lease_ms = atomic.redis_atomic.lease_ms
        self.renew_margin_ms = min(renew_margin_ms or lease_ms * 5 // 6, lease_ms - 1)
        """A credex-core call renews the lease first only if less than this is left of it: the longest a call
        may take. Most calls start milliseconds after begin and need no extra round trip."""
        self._local = KeyedLocks()

    @property
    def redis_atomic(self) -> RedisAtomic:
        return self.atomic.redis_atomic

    @property
    def validator(self) -> StateValidator:
        return self.atomic.validator

    @asynccontextmanager
    async def session(self, channel_id: str, message_id: str = "") -> AsyncIterator[StateManager]:
        async with self._local.hold(channel_id):
            token = new_token()
            asked_at = time.monotonic()
            begun = await self.atomic.begin(channel_id, message_id, token)
            if isinstance(begun, Duplicate):
                duplicate = StateManager(channel_id, message_id, ConversationState.fresh(channel_id), duplicate=True)
                duplicate.outbox = begun.replies
                yield duplicate
                return
            leased_until = asked_at + self.redis_atomic.lease_ms / 1000  # measured from before the ask: never late
            try:
                stored = self.atomic.decode(channel_id, begun)
            except CorruptState as exc:
                # Conversation state is a cache of a 5-minute dialogue; credex-core holds the money.
                # Starting over beats a message that fails on every retry for 7 days.
                log.error("state_unreadable_reset", reason=str(exc))
                stored = None

            async def renew() -> bool:
                nonlocal leased_until
                if leased_until - time.monotonic() > self.renew_margin_ms / 1000:
                    return True
                renewed_at = time.monotonic()
                ok = await self.redis_atomic.extend(channel_id, token)
                leased_until = renewed_at + self.redis_atomic.lease_ms / 1000
                return ok

            async def begin_intent(op_id: str, intent: bytes, replace: bool) -> bytes | None:
                nonlocal leased_until
                renewed_at = time.monotonic()
                earlier = await self.redis_atomic.begin_intent(channel_id, token, op_id, intent, replace=replace)
                if earlier is False:
                    raise CommitRefused("lost")
                leased_until = renewed_at + self.redis_atomic.lease_ms / 1000
                return earlier if isinstance(earlier, bytes) else None

            manager = StateManager(
                channel_id,
                message_id,
                stored or ConversationState.fresh(channel_id),
                is_new=stored is None,
                expired=stored is None and begun.known,
                validator=self.validator,
                initial=lambda: self.atomic.decode(channel_id, begun) or ConversationState.fresh(channel_id),
                renew_lease=renew,
                begin_intent=begin_intent,
            )
            try:
                yield manager
            except BaseException:
                await self._abort(channel_id, token)
                raise
            replies = self.encode_replies(channel_id, message_id, manager.messaging.drain())
            try:
                committed = await self.atomic.commit(
                    channel_id, token, manager.committable(), begun.version, message_id, replies, manager.finished
                )
            except BaseException:
                await self._abort(channel_id, token)
                raise
            manager.committed_version = committed.version
            manager.outbox = committed.replies

    async def _abort(self, channel_id: str, token: str) -> None:
        """Release the lease even if this task is being cancelled; the lease TTL is the backstop."""
        try:
            await asyncio.shield(self.atomic.abort(channel_id, token))
        except Exception as exc:  # the store may be the reason we are aborting
            log.warning("abort_failed", error=type(exc).__name__)
