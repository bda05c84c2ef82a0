"""Money writes exactly once: an intent before every credex-core write, reconciliation after any fault.

credex-core takes no idempotency key (we send one anyway, `Idempotency-Key`, as a request), so a write whose
outcome we never committed (the worker died, Redis failed at the commit, a read after the write failed) must not
be repeated blindly. Before the call, `begin_intent` fences the lease, renews it and records the operation with a
stable id (the confirmation's nonce) in one round trip; the commit that records the outcome forgets it. A later
try of the same confirmation finds the intent and asks credex-core what happened instead of writing again, then
tells the person the truth: done, or not confirmed yet (how to check); when it surely was not done, the person's
new try is the write, made now.
"""

from __future__ import annotations

import hashlib
import time
from abc import abstractmethod
from typing import Any, ClassVar

import orjson

from app.components.base import ApiComponent, StepContext, notice
from app.credex import CredexAuth, CredexInvalidRequest, CredexRejected, CredexUnavailable
from app.state.results import ValidationResult

CHECK = "We could not confirm whether {what} went through. Please check your dashboard before trying again."


def operation_id(ctx: StepContext, operation: str, parts: list[Any]) -> str:
    """Named by what the write does (who, what, how much), not by the message: a redelivery, a second tap, and
    the person making the same offer again after "could not confirm" all find the unfinished earlier try."""
    digest = hashlib.sha256(orjson.dumps([ctx.state.get_channel_id(), operation, *parts])).hexdigest()[:24]
    return f"{operation}:{digest}"


class IntentWrite(ApiComponent):
    """An ApiComponent whose call is one credex-core write, recorded as an intent first."""

    operation: ClassVar[str]
    fences_itself = True

    @abstractmethod
    def identity(self, ctx: StepContext) -> list[Any]:
        """What makes this write this write: the parts of its operation id."""

    @abstractmethod
    def intent(self, ctx: StepContext) -> dict[str, Any]:
        """What the write is about, with what reconciliation needs (e.g. the offers known before it)."""

    @abstractmethod
    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult: ...

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        """Ask credex-core whether the earlier try took effect: True, False, or None when it cannot tell."""
        return None

    def done(self, ctx: StepContext, intent: dict[str, Any]) -> ValidationResult:
        """What the person is told (and the state) when the earlier try did take effect."""
        ctx.send(notice(f"✅ {self.what(ctx)} went through."))
        return ValidationResult.success()

    def what(self, ctx: StepContext) -> str:
        return "That"

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        key = operation_id(ctx, self.operation, self.identity(ctx))
        record = {"op": self.operation, "at": int(time.time()), **self.intent(ctx)}
        earlier = await ctx.state.begin_intent(key, record)
        if earlier is None:
            return await self._write_once(ctx, auth, key)
        happened = await self.happened(ctx, auth, earlier)
        if happened is None:
            return ValidationResult.failure(CHECK.format(what=self.what(ctx).lower()), outcome="unconfirmed")
        if happened:
            ctx.state.finish_intent(key)
            return self.done(ctx, earlier)
        # The earlier try surely did not take effect and the person asked again: this try is the write, under a
        # fresh record (its answer may be lost too).
        await ctx.state.begin_intent(key, record, replace=True)
        return await self._write_once(ctx, auth, key)

    async def _write_once(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        try:
            result = await self.write(ctx, auth, key)
        except (CredexRejected, CredexUnavailable, CredexInvalidRequest):
            ctx.state.finish_intent(key)  # credex-core refused it, or it never left: surely not done
            raise
        ctx.state.finish_intent(key)  # an unconfirmed write (CredexWriteUnconfirmed) stays on record
        return result
