"""The four component bases of the seed, and the context a step runs in.

- DisplayComponent: renders from a read-only view of state and sends; never writes.
- InputComponent: asks one question, validates the answer, stores it in flow data; the runner counts attempts.
- ConfirmComponent: asks yes/no with buttons and records the answer; never calls credex-core.
- ApiComponent: calls credex-core and lets its handler update member/dashboard/action state.
Each returns a ValidationResult whose `outcome` the flow table maps to the next step.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from app.components.operations import operation_key
from app.credex import (
    CredexAuth,
    CredexBadResponse,
    CredexClient,
    CredexInvalidRequest,
    CredexRejected,
    CredexUnauthorized,
    CredexUnavailable,
    CredexWriteUnconfirmed,
)
from app.state.manager import StateManager
from app.state.models import FlowData
from app.state.results import ErrorContext, ErrorHandler, ValidationResult
from app.whatsapp.inbound import InboundMessage
from app.whatsapp.messages import FOOTER_MAX, Button, ListMessage, OutboundMessage, ReplyButtons, Text

Kind = Literal["display", "input", "confirm", "api"]
AWAIT = "await"
"""The outcome of entering a step that waits for the person's reply."""
MAX_ATTEMPTS = 3
"""Wrong answers in a row before the menu is offered, wherever they are counted."""
TOO_MANY = "That didn't work {n} times, so let's go back to the menu."
LEAVE_HINT = "Type cancel to stop, or help."
"""The footer (plain text, at most 60 characters) of every question that is part of a flow: how to leave."""


class ReadOnlyState:
    """What a display component may see: accessors only, nothing that writes."""

    def __init__(self, state: StateManager) -> None:
        self._state = state

    def get_channel_id(self) -> str:
        return self._state.get_channel_id()

    def get_member_id(self) -> str | None:
        return self._state.get_member_id()

    def get_flow_state(self) -> FlowData:
        return self._state.get_flow_state()

    def get(self, key: str) -> Any:
        return self._state.get(key)


@dataclass
class StepContext:
    state: StateManager
    credex_client: CredexClient
    message: InboundMessage | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    kind: Kind | None = None
    phone_region: str = "ZW"
    """Where a phone number typed without its country code is read from (DEFAULT_PHONE_REGION)."""
    typed_phone: bool = False
    """A person whose number is hidden may type it, not only share it (development: the sandbox's demo members;
    in production only the number WhatsApp shares is trusted, since a typed one could be anyone's)."""

    @property
    def credex(self) -> CredexClient:
        """Only API components reach credex-core (the seed: confirm steps never call the API)."""
        if self.kind != "api":
            raise PermissionError(f"a {self.kind} component may not call credex-core")
        return self.credex_client

    @property
    def data(self) -> dict[str, Any]:
        return self.state.get_flow_state().data

    def put(self, **values: Any) -> ValidationResult:
        return self.state.update_state({"flow_data": {"data": values}})

    def send(self, *messages: OutboundMessage) -> None:
        for message in messages:
            self.state.messaging.send(message)

    def auth(self) -> CredexAuth:
        """credex-core knows members by phone: the wa_id, or the number a person with a hidden one shared."""
        phone = self.state.get_phone() or self.state.get_channel_id()
        return CredexAuth(phone=phone, token=self.state.get_auth_token())

    def operation_key(self, operation: str, *parts: str) -> str:
        """The `Idempotency-Key` of this step's write: anchored on the confirmation that allowed it, else on the
        message that caused it (see app/components/operations.py)."""
        anchor = self.data.get("confirm_nonce") or (self.message.message_id if self.message else "")
        return operation_key(self.state.get_channel_id(), operation, str(anchor), *parts)

    def keep_auth(self, auth: CredexAuth) -> None:
        """credex-core may refresh the JWT on any call: the new one lives in state, nowhere else."""
        if auth.token != self.state.get_auth_token():
            self.state.set_auth_token(auth.token)


class Component(ABC):
    kind: ClassVar[Kind]
    waits: ClassVar[bool] = False
    outcomes: frozenset[str] = frozenset({"ok"})
    """Outcomes this component returns besides the runner's shared ones; each needs a transition."""
    takes_contact: ClassVar[bool] = False
    """A shared contact card is an answer here (its phone number, as a handle), not something to explain."""
    hint: ClassVar[str | None] = LEAVE_HINT
    """Shown under the question (a footer, or a last line of text): how to leave this step."""

    def help(self, ctx: StepContext) -> str:
        """What this step wants, in plain words, for *help* typed here."""
        return "I am waiting for your answer to the question above."

    def stale(self, ctx: StepContext, tap: str) -> str | None:
        """What to say for a tap on a button of an earlier message, when this step knows better than the
        runner's general "That button is from an earlier message" (never the button's id)."""
        return None

    @property
    def name(self) -> str:
        return type(self).__name__

    @abstractmethod
    async def enter(self, ctx: StepContext) -> ValidationResult:
        """Called when the flow arrives at this step."""

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        """Called with the person's reply while the flow rests on this step (waiting steps only)."""
        raise NotImplementedError(f"{self.name} does not wait for a reply")


class DisplayComponent(Component):
    kind = "display"

    @abstractmethod
    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]: ...

    async def enter(self, ctx: StepContext) -> ValidationResult:
        ctx.send(*self.render(ReadOnlyState(ctx.state)))
        return ValidationResult.success()


class InputComponent(Component):
    kind = "input"
    waits = True
    field: ClassVar[str] = ""
    """Where a valid answer is stored in flow data ('' to store nothing)."""

    @abstractmethod
    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]: ...

    @abstractmethod
    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        """Parse one answer; a failure's error is shown to the person before the question is asked again."""

    async def enter(self, ctx: StepContext) -> ValidationResult:
        ctx.send(*with_hint(self.prompt(ctx), self.hint))
        return ValidationResult.success(outcome=AWAIT)

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        result = self.validate(ctx, text)
        if result.valid and self.field:
            stored = ctx.put(**{self.field: result.value})
            if not stored.valid:
                return stored
        return result


EARLIER_BUTTON = "That button belongs to an earlier message, so nothing was done. Please answer this one."
CONFIRM_SKEW_SECONDS = 5
"""How much earlier than its prompt an answer may be stamped and still count: Meta's clock against ours."""
STALE_ANSWER = (
    "That answer was sent before this confirmation, so it does not count and nothing was done. "
    "To go ahead, tap *{yes}* below, or *{no}* to stop."
)
YES_WORDS = frozenset({"yes", "y", "ok", "confirm", "sign", "sign and send", "send", "1"})
NO_WORDS = frozenset({"no", "n", "cancel", "stop", "2", "not now", "change"})


class ConfirmComponent(Component):
    """Yes/no before a write. The buttons carry a nonce kept in flow data (`yes:<nonce>`), so a tap on the
    buttons of an earlier confirmation (scrolled up, or redelivered by Meta hours later) cannot confirm the
    question on screen now. A typed "yes" carries no nonce, so every answer is also bound by time: one sent
    before the prompt was created (`confirm_at`, unix seconds) confirms nothing."""

    kind = "confirm"
    waits = True
    outcomes = frozenset({"yes", "no"})
    yes_title: ClassVar[str] = "Confirm"
    no_title: ClassVar[str] = "Not now"
    """Never "Cancel" alone: beside "Decline" or "Cancel offer" it would be ambiguous."""

    @abstractmethod
    def summary(self, ctx: StepContext) -> str: ...

    @staticmethod
    def answers_an_earlier_prompt(ctx: StepContext) -> bool:
        """An answer is bound to the prompt shown when it was sent: Meta's `timestamp` (seconds, when the person
        sent it) older than the prompt's creation (our clock) means it answered something else, so it never
        confirms this one. Outbound wamids are not known when the prompt is committed, so `context.message_id`
        cannot be compared; a message without a timestamp is judged by its nonce and words alone."""
        sent_at = ctx.message.timestamp if ctx.message else None
        shown_at = ctx.data.get("confirm_at")
        if sent_at is None or not isinstance(shown_at, int):
            return False
        return sent_at < shown_at - CONFIRM_SKEW_SECONDS

    async def enter(self, ctx: StepContext) -> ValidationResult:
        nonce = secrets.token_hex(4)
        ctx.put(confirm_nonce=nonce, confirm_at=int(ctx.now().timestamp()))
        buttons = [Button(id=f"yes:{nonce}", title=self.yes_title), Button(id=f"no:{nonce}", title=self.no_title)]
        ctx.send(*with_hint([ReplyButtons(body=self.summary(ctx), buttons=buttons)], self.hint))
        return ValidationResult.success(outcome=AWAIT)

    def help(self, ctx: StepContext) -> str:
        return f"Tap *{self.yes_title}* to go ahead, or *{self.no_title}* to stop without sending anything."

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        answer = text.strip().lower()
        word, colon, nonce = answer.partition(":")
        if colon and word in ("yes", "no"):
            if nonce != ctx.data.get("confirm_nonce"):
                return ValidationResult.failure(EARLIER_BUTTON)
            answer = word
        if self.answers_an_earlier_prompt(ctx):
            # Not the person's mistake (a redelivery, or typed before the question arrived): no attempt counted.
            ctx.send(notice(STALE_ANSWER.format(yes=self.yes_title, no=self.no_title)))
            return await self.enter(ctx)
        if answer in YES_WORDS or answer == self.yes_title.lower():
            ctx.put(confirmed=True)
            return ValidationResult.success(True, outcome="yes")
        if answer in NO_WORDS or answer == self.no_title.lower():
            ctx.put(confirmed=False)
            return ValidationResult.success(False, outcome="no")
        return ValidationResult.failure(f"Please tap *{self.yes_title}* or *{self.no_title}*.")


class ApiComponent(Component):
    kind = "api"
    outcomes = frozenset({"ok"})
    fences_itself: ClassVar[bool] = False
    """Writes fence (and record their intent) in one script of their own; reads renew the lease first."""

    @abstractmethod
    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        """Make the call(s) and update state from the response; raise credex errors, they are mapped here."""

    async def enter(self, ctx: StepContext) -> ValidationResult:
        if not self.fences_itself:
            await ctx.state.hold_lease()  # a taken-over channel must not reach credex-core: raises, nothing written
        auth = ctx.auth()
        try:
            return await self.call(ctx, auth)
        except CredexRejected as exc:
            return ValidationResult.failure(exc.message, outcome="rejected", code=exc.code)
        except CredexWriteUnconfirmed:
            return ValidationResult.failure(UNCONFIRMED, outcome="unconfirmed")
        except CredexUnauthorized:
            ctx.state.set_auth_token(None)
            return ValidationResult.failure(UNAVAILABLE, outcome="unavailable")
        except (CredexUnavailable, CredexBadResponse, CredexInvalidRequest) as exc:
            return ErrorHandler.handle_error(
                exc,
                ctx.state,
                ErrorContext("api", UNAVAILABLE, {"code": type(exc).__name__, "component": self.name}),
            )
        finally:
            ctx.keep_auth(auth)


UNCONFIRMED = (
    "We could not confirm that this went through. Please check your dashboard (type *menu*). If it is not there,"
    " you can simply do it again: we check with credex first, so it is never done twice."
)
UNAVAILABLE = "The credex service is not answering right now. Nothing was changed. Please try again in a moment."


def notice(text: str) -> Text:
    return Text.safe(text)


def with_hint(messages: Sequence[OutboundMessage], hint: str | None) -> list[OutboundMessage]:
    """The question with its way out: the footer of a button or list message, else a last line of text."""
    out = list(messages)
    if not hint or not out:
        return out
    last = out[-1]
    if isinstance(last, ReplyButtons | ListMessage) and last.footer is None:
        out[-1] = last.model_copy(update={"footer": hint[:FOOTER_MAX]})
    elif isinstance(last, Text) and hint not in last.body:
        out[-1] = Text.safe(f"{last.body}\n\n_{hint}_")
    return out
