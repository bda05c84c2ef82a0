"""StateManager: the one way components see and change a channel's state during a session.

Reads go through accessors that hand out copies, writes go through `update_state` (validated, refused
whole when invalid) or the few named mutators below; the store commits the result atomically.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from app.state.errors import CommitRefused
from app.state.messaging import MessageQueue
from app.state.models import REVEAL_SECRETS, ConversationState, FlowData, LastAttempt, utcnow
from app.state.results import ErrorContext, ValidationResult
from app.state.validator import StateValidator

READABLE = frozenset({"member", "dashboard", "active_account_id", "flow_data"})
PATCHABLE = frozenset({"member", "auth", "dashboard", "active_account_id", "flow_data"})
_REVEAL = {REVEAL_SECRETS: True}
ATTEMPT_VALUE_MAX = 200
"""How much of a wrong answer is kept for the record: enough to see the mistake, never the 4,096 limit."""
M = TypeVar("M", bound=BaseModel)


def _copy(model: M) -> M:
    """A deep copy through pydantic's Rust core: several times cheaper than copy.deepcopy of a model."""
    return type(model).model_validate(model.model_dump(by_alias=True, context=_REVEAL))


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class StateManager:
    def __init__(
        self,
        channel_id: str,
        message_id: str,
        state: ConversationState,
        *,
        duplicate: bool = False,
        is_new: bool = False,
        expired: bool = False,
        validator: StateValidator | None = None,
        initial: Callable[[], ConversationState] | None = None,
        renew_lease: Callable[[], Awaitable[bool]] | None = None,
        begin_intent: Callable[[str, bytes, bool], Awaitable[bytes | None]] | None = None,
    ) -> None:
        self._channel_id = channel_id
        self.message_id = message_id
        self._state = state
        self._initial = initial or (lambda: ConversationState.fresh(channel_id))
        self.duplicate = duplicate
        self.is_new = is_new
        self.session_expired = expired
        self.committed_version: int | None = None
        self.outbox: tuple[bytes, ...] = ()
        """After the session: the channel's unsent replies (this session's and any left over), for the sender."""
        self.messaging = MessageQueue()
        self._validator = validator or StateValidator()
        self._renew_lease = renew_lease
        self._begin_intent = begin_intent
        self.begun: list[str] = []
        """Intents recorded in this session (credex-core writes attempted)."""
        self.finished: list[str] = []
        """Intents whose outcome this session reached: the commit forgets them, together with the state."""

    # -- accessors -------------------------------------------------------------------------------------
    def get_channel_id(self) -> str:
        return self._channel_id

    def get_member_id(self) -> str | None:
        return self._state.member.member_id

    def get_phone(self) -> str | None:
        """The number credex-core knows this person by: the channel itself when it is a phone number (a wa_id),
        else the one they shared (None until then)."""
        if self._channel_id.isascii() and self._channel_id.isdigit():
            return self._channel_id
        return self._state.channel.phone

    def set_phone(self, phone: str) -> None:
        """Remember a hidden-number person's phone (validated by the model: 8 to 15 digits)."""
        self._state.channel.phone = phone

    def get_flow_state(self) -> FlowData:
        return _copy(self._state.flow_data)

    def get_auth_token(self) -> str | None:
        token = self._state.auth.token
        return token.get_secret_value() if token else None

    def get_version(self) -> int:
        return self._state.metadata.version

    def get(self, key: str) -> Any:
        if key not in READABLE:
            raise KeyError(f"{key!r} is not readable through get(); use its accessor")
        value = getattr(self._state, key)
        return _copy(value) if isinstance(value, BaseModel) else value

    def snapshot(self) -> ConversationState:
        """A copy of the whole state, for the store's commit and for admin views."""
        return _copy(self._state)

    def committable(self) -> ConversationState:
        """The live state, for the store's commit only (which validates it again before writing)."""
        return self._state

    async def hold_lease(self) -> None:
        """Renew the channel's lease before a side effect outside Redis (a credex-core write).

        Raises CommitRefused('lost') when another worker has taken the channel over: the side effect must not
        happen, since that worker may be handling this very message again.
        """
        if self._renew_lease is not None and not await self._renew_lease():
            raise CommitRefused("lost")

    async def begin_intent(self, op_id: str, intent: dict[str, Any], *, replace: bool = False) -> dict[str, Any] | None:
        """Before a credex-core write: fence, renew and record it in one round trip (raises CommitRefused
        'lost' if the channel was taken over). Returns the intent of an earlier try that never finished, which
        the caller must reconcile instead of writing again; None when the write may go ahead. `replace`: the
        earlier try was reconciled as not done, so this record (and this write) takes its place."""
        if self._begin_intent is None:
            return None
        earlier = await self._begin_intent(op_id, orjson.dumps(intent), replace)
        self.begun.append(op_id)
        return orjson.loads(earlier) if earlier is not None else None

    @property
    def writes_unsettled(self) -> bool:
        """A credex-core write was attempted in this session and its outcome is not known."""
        return any(op not in self.finished for op in self.begun)

    def finish_intent(self, op_id: str) -> None:
        """The write's outcome is known and in this session's state and replies: forget it with the commit."""
        if op_id not in self.finished:
            self.finished.append(op_id)

    # -- validated updates -----------------------------------------------------------------------------
    def update_state(self, patch: dict[str, Any]) -> ValidationResult:
        """Deep-merge `patch` into the state if the result is valid; otherwise change nothing."""
        unknown = set(patch) - PATCHABLE
        if unknown:
            return ValidationResult.failure(f"cannot update {sorted(unknown)}: not updatable state")
        current = self._state.model_dump(by_alias=True, context=_REVEAL)
        try:
            proposed = ConversationState.model_validate(_merge(current, patch))
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            return ValidationResult.failure("invalid update: " + "; ".join(problems), errors=problems)
        errors = self._validator.validate(proposed, self._channel_id)
        if errors:
            return ValidationResult.failure("invalid update: " + "; ".join(errors), errors=errors)
        self._state = proposed
        return ValidationResult.success(_copy(proposed.flow_data))

    def set_auth_token(self, token: str | None) -> ValidationResult:
        return self.update_state({"auth": {"token": token, "issued_at": utcnow() if token else None}})

    @property
    def opted_out(self) -> bool:
        """The person wrote *stop*: no proactive notifications until they write again."""
        return self._state.opted_out_at is not None

    def set_opted_out(self, opted_out: bool) -> None:
        self._state.opted_out_at = utcnow() if opted_out else None

    def advance(self, context: str, component: str, data: dict[str, Any] | None = None) -> None:
        """Move the flow to a step; a new step starts with a clean validation record."""
        flow = self._state.flow_data
        self._state.flow_data = FlowData(context=context, component=component, data=flow.data if data is None else data)

    def record_attempt(self, component: str, value: str | None, error: str | None) -> int:
        """Count an input attempt on the current step; returns the attempts so far on it."""
        if value is not None and len(value) > ATTEMPT_VALUE_MAX:  # a pasted essay must not fail the step
            value = value[:ATTEMPT_VALUE_MAX]
        attempt = LastAttempt(component=component, value=value, error=error[:ATTEMPT_VALUE_MAX] if error else error)
        validation = self._state.flow_data.validation
        validation.attempts += 1
        validation.in_progress = error is not None
        validation.last_attempt = attempt
        meta = self._state.validation
        meta.attempts[component] = meta.attempts.get(component, 0) + 1
        meta.last_attempt = attempt
        meta.error = error
        return validation.attempts

    def record_error(self, context: ErrorContext) -> None:
        code = context.details.get("code")
        self._state.validation.error = f"{context.error_type}:{code or ''}:{context.message}"[:500]

    def clear_flow_state(self) -> None:
        """Keep channel, member, auth and dashboard; drop the flow."""
        self._state.flow_data = FlowData()

    def reset(self) -> None:
        """Forget everything but the channel (logout, corrupt state)."""
        self._state = ConversationState.fresh(self._channel_id)

    def rollback(self) -> None:
        """Back to the state as it was at begin, and no queued replies (a step raised)."""
        self._state = self._initial()
        self.messaging.clear()
        self.finished.clear()  # a write that happened stays on record: the next try reconciles it
