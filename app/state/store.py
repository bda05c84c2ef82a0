"""StateStore: `async with store.session(channel, message_id) as state` — begin, work, commit or abort.

One EVALSHA on enter (duplicate? busy? else lease + state), one on a clean exit (version-checked write,
TTL renewed, message id remembered, lease released); an exception releases the lease and writes nothing,
so Meta's retry of the same message is handled again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog

from app.state.atomic import AtomicStateManager, new_token
from app.state.errors import CorruptState
from app.state.local_locks import KeyedLocks
from app.state.manager import StateManager
from app.state.models import ConversationState
from app.state.redis_atomic import Duplicate, RedisAtomic
from app.state.validator import StateValidator

log = structlog.get_logger(__name__)


AfterCommit = Callable[[str, list[Any]], Awaitable[None]]


class StateStore:
    def __init__(self, atomic: AtomicStateManager, after_commit: AfterCommit | None = None) -> None:
        self.atomic = atomic
        self.after_commit = after_commit
        """Receives the replies queued during a committed session, still under the channel's local lock,
        so one worker sends a channel's replies in the order its messages were handled."""
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
            begun = await self.atomic.begin(channel_id, message_id, token)
            if isinstance(begun, Duplicate):
                yield StateManager(channel_id, message_id, ConversationState.fresh(channel_id), duplicate=True)
                return
            try:
                stored = self.atomic.decode(channel_id, begun)
            except CorruptState as exc:
                # Conversation state is a cache of a 5-minute dialogue; credex-core holds the money.
                # Starting over beats a message that fails on every retry for 7 days.
                log.error("state_unreadable_reset", reason=str(exc))
                stored = None
            manager = StateManager(
                channel_id,
                message_id,
                stored or ConversationState.fresh(channel_id),
                is_new=stored is None,
                expired=stored is None and begun.known,
                validator=self.validator,
                initial=lambda: self.atomic.decode(channel_id, begun) or ConversationState.fresh(channel_id),
                renew_lease=lambda: self.redis_atomic.extend(channel_id, token),
            )
            try:
                yield manager
            except BaseException:
                await self._abort(channel_id, token)
                raise
            try:
                manager.committed_version = await self.atomic.commit(
                    channel_id, token, manager.committable(), begun.version, message_id
                )
            except BaseException:
                await self._abort(channel_id, token)
                raise
            replies = manager.messaging.drain()
            if replies and self.after_commit is not None:
                await self.after_commit(channel_id, replies)

    async def _abort(self, channel_id: str, token: str) -> None:
        """Release the lease even if this task is being cancelled; the lease TTL is the backstop."""
        try:
            await asyncio.shield(self.atomic.abort(channel_id, token))
        except Exception as exc:  # the store may be the reason we are aborting
            log.warning("abort_failed", error=type(exc).__name__)
