"""AtomicStateManager: validation before every write, bounded waiting for a busy channel, and the
seed's `execute_atomic(key, operation, value, ttl) -> (success, data, error)` for callers outside a session.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from app.state import codec
from app.state.errors import ChannelBusy, CommitRefused, CorruptState, StateError, StateValidationError
from app.state.migrations import UnknownSchemaVersion
from app.state.models import ConversationState, FlowData, utcnow
from app.state.redis_atomic import Begun, Busy, Committed, Duplicate, RedisAtomic
from app.state.validator import StateValidator

BACKOFF_BASE_S = 0.002
BACKOFF_CAP_S = 0.05


def new_token() -> str:
    return secrets.token_hex(16)


class AtomicStateManager:
    def __init__(
        self,
        redis_atomic: RedisAtomic,
        *,
        busy_wait_s: float,
        validator: StateValidator,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.redis_atomic = redis_atomic
        self.busy_wait_s = busy_wait_s
        self.validator = validator
        self.on_event = on_event
        """Told of lease waits, busy timeouts and commit conflicts (the metrics, wired by the app)."""

    def _event(self, name: str) -> None:
        if self.on_event is not None:
            self.on_event(name)

    async def begin(self, channel_id: str, message_id: str, token: str) -> Begun | Duplicate:
        """Take the channel's lease, waiting at most `busy_wait_s` for another worker to release it.

        The wait backs off exponentially with full jitter (2 ms doubling to 50 ms, never past the holder's
        remaining lease), so a short handler is followed within milliseconds and waiting workers do not
        march in lockstep.
        """
        deadline = time.monotonic() + self.busy_wait_s
        attempt = 0
        while True:
            result = await self.redis_atomic.begin(channel_id, message_id, token)
            if not isinstance(result, Busy):
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._event("busy_timeouts")
                raise ChannelBusy(channel_id, self.busy_wait_s)
            self._event("lease_waits")
            ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt, result.retry_ms / 1000 + 0.001)
            await asyncio.sleep(min(remaining, random.uniform(0, ceiling)))  # noqa: S311 - jitter, not crypto
            attempt += 1

    def decode(self, channel_id: str, begun: Begun) -> ConversationState | None:
        if begun.core is None:
            return None
        try:
            return codec.decode(begun.version, begun.core, begun.flow)
        except (ValueError, ValidationError, UnknownSchemaVersion) as exc:
            raise CorruptState(f"stored state unreadable: {type(exc).__name__}") from exc

    async def commit(
        self,
        channel_id: str,
        token: str,
        state: ConversationState,
        expected_version: int,
        message_id: str,
        replies: list[bytes] | None = None,
        finished_intents: list[str] | None = None,
    ) -> Committed:
        """Validate, then write state and replies in one round trip; an invalid state raises and writes nothing."""
        state.metadata.version = expected_version + 1
        state.metadata.updated_at = utcnow()
        errors = self.validator.validate(state, channel_id)
        core, flow = codec.encode(state)
        errors += self.validator.validate_size(core, flow)
        if errors:
            raise StateValidationError(errors)
        try:
            return await self.redis_atomic.commit(
                channel_id, token, expected_version, core, flow, message_id, replies, finished_intents
            )
        except CommitRefused:
            self._event("commit_conflicts")
            raise

    async def abort(self, channel_id: str, token: str) -> bool:
        return await self.redis_atomic.abort(channel_id, token)

    async def execute_atomic(
        self, key: str, operation: str, value: Any = None, ttl: int | None = None
    ) -> tuple[bool, Any, str | None]:
        """Operations on one channel (`key` is its id): get, set (a whole state), clear_flow, delete.

        The TTL is the store's sliding state TTL; a `ttl` that differs is refused rather than ignored.
        """
        if ttl is not None and ttl * 1000 != self.redis_atomic.state_ttl_ms:
            return False, None, f"ttl must be the state TTL ({self.redis_atomic.state_ttl_ms // 1000} s)"
        try:
            if operation == "get":
                snap = await self.redis_atomic.read(key)
                if snap.core is None:
                    return True, None, None
                return True, codec.decode(snap.version, snap.core, snap.flow), None
            if operation == "set":
                return True, await self._set(key, value), None
            if operation == "clear_flow":
                result = await self.redis_atomic.clear_flow(key, codec.encode_flow(FlowData()))
                if isinstance(result, Busy):
                    return False, None, "channel busy"
                return True, result, None
            if operation == "delete":
                return True, await self.redis_atomic.delete_session(key), None
        except (StateError, ValidationError, ValueError) as exc:
            return False, None, str(exc)
        return False, None, f"unknown operation {operation!r}"

    async def _set(self, channel_id: str, value: Any) -> int:
        state = value if isinstance(value, ConversationState) else ConversationState.model_validate(value)
        token = new_token()
        begun = await self.begin(channel_id, "", token)
        assert isinstance(begun, Begun)  # no message id, so never a duplicate
        try:
            return (await self.commit(channel_id, token, state, begun.version, "")).version
        except BaseException:
            await self.abort(channel_id, token)
            raise
