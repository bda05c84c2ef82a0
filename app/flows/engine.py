"""The engine: one inbound message, one state session, one step of a flow, replies after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from app.logs import get_logger
from app.metrics import MESSAGE_TYPES, Metrics, known
from app.state.errors import StateError
from app.state.manager import StateManager
from app.state.results import ErrorContext, ErrorHandler
from app.state.store import StateStore
from app.whatsapp.inbound import InboundMessage
from app.whatsapp.messages import Text

log = get_logger(__name__)

FLOW_TYPES = frozenset({"text", "interactive", "button", "contacts"})
"""Message types a flow can read; every other type gets UNDERSTOOD and leaves the flow where it was."""
SILENT_TYPES = frozenset({"system", "reaction", "edit", "revoke"})
"""Meta's notices (number changed, identity changed), reactions (added or removed), edits and deletions of
earlier messages: not a new answer from the person, so no reply."""

UNDERSTOOD = (
    "Sorry, I can only read text messages and the buttons and lists I send. Type *menu* to see what you can do."
)
APOLOGY = "Sorry, something went wrong on our side and nothing was changed. Please try again, or type *menu*."
APOLOGY_AFTER_WRITE = (
    "Sorry, something went wrong on our side just after we sent your request to credex. Please answer again:"
    " we check with credex first whether it went through, so nothing is ever done twice."
)


class FlowRunner(Protocol):
    """Runs one step of the person's current flow for a message; queues replies on state.messaging."""

    async def run(self, message: InboundMessage, state: StateManager) -> None: ...


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNSUPPORTED = "unsupported"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Handled:
    outcome: Outcome
    outbox: tuple[bytes, ...] = ()
    """The channel's unsent replies after the session: the sender's work (also after a duplicate)."""


class Engine:
    def __init__(self, store: StateStore, runner: FlowRunner, metrics: Metrics) -> None:
        self.store = store
        self.runner = runner
        self.metrics = metrics

    async def handle(self, message: InboundMessage) -> Handled:
        """Raises StateError (store down, channel busy, commit refused): nothing was committed, so the worker
        retries the inbox entry and it is handled as if for the first time."""
        with self.metrics.handle_seconds.time():
            async with self.store.session(message.channel_id, message.message_id) as state:
                if state.duplicate:
                    self.metrics.duplicates.inc()
                    outcome = Outcome.DUPLICATE
                else:
                    self.metrics.messages.labels(known(message.type, MESSAGE_TYPES)).inc()
                    if state.session_expired:
                        self.metrics.session_expiries.inc()
                    outcome = await self._step(message, state)
            return Handled(outcome, state.outbox)

    async def _step(self, message: InboundMessage, state: StateManager) -> Outcome:
        if message.type in SILENT_TYPES:
            return Outcome.IGNORED
        if message.type not in FLOW_TYPES or message.input_text is None:
            state.messaging.send(Text(body=UNDERSTOOD))
            return Outcome.UNSUPPORTED
        try:
            await self.runner.run(message, state)
        except StateError:  # the store failed or the channel was taken over: no reply, Meta retries
            raise
        except Exception as exc:
            context = state.get_flow_state().context or "none"
            unsettled = state.writes_unsettled
            state.rollback()
            ErrorHandler.handle_error(
                exc,
                state,
                ErrorContext(
                    "flow",
                    "step failed",
                    {"code": "FLOW_STEP_ERROR", "context": context, "exception": type(exc).__name__},
                ),
            )
            log.exception("flow_step_failed", context=context)
            self.metrics.flow_errors.labels(context).inc()
            state.messaging.send(Text(body=APOLOGY_AFTER_WRITE if unsettled else APOLOGY))
            return Outcome.FAILED
        return Outcome.HANDLED
