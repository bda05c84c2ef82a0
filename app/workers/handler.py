"""What a worker does with one inbox entry: a message goes through the engine, a status is recorded, queued
replies (a credex-core notification, a resent dead letter) join the person's outbox; then the person's
outbox is delivered. Every step is idempotent, so an entry handled again after a crash changes nothing twice.
"""

from __future__ import annotations

import asyncio

import orjson
import structlog

from app.channel_ids import CHANNEL_ID
from app.flows.engine import Engine
from app.logs import get_logger
from app.masking import mask_phone
from app.metrics import STATUSES, Metrics, known, known_code
from app.sender.deliver import ReplyDelivery
from app.state.identity import move_channel
from app.state.side_records import SideRecords
from app.whatsapp.inbound import InboundMessage, InboundStatus
from app.whatsapp.split import load_unit
from app.workers.entries import Entry, PoisonEntry

log = get_logger(__name__)


class UnreadableEntry(PoisonEntry):
    pass


class EntryHandler:
    def __init__(
        self,
        engine: Engine,
        records: SideRecords,
        delivery: ReplyDelivery,
        metrics: Metrics,
        *,
        mark_read: bool = True,
    ) -> None:
        self.engine = engine
        self.records = records
        self.delivery = delivery
        self.metrics = metrics
        self.mark_read = mark_read
        self._receipts: set[asyncio.Task[None]] = set()

    async def __call__(self, entry: Entry) -> None:
        structlog.contextvars.bind_contextvars(correlation_id=entry.id, channel=mask_phone(entry.channel_id))
        try:
            if entry.kind == "m":
                await self._message(entry)
            elif entry.kind == "s":
                await self._status(entry)
            elif entry.kind == "r":
                await self._replies(entry)
            else:
                log.error("inbox_entry_unknown_kind", kind=entry.kind[:8])
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "channel")

    async def _message(self, entry: Entry) -> None:
        update = load_unit("message", entry.data)
        if not isinstance(update, InboundMessage):
            raise UnreadableEntry("message entry does not parse")
        structlog.contextvars.bind_contextvars(correlation_id=update.message_id)
        if self.mark_read and update.type in READ_TYPES:  # concurrently with the step: ticks and typing at once
            receipt = asyncio.get_running_loop().create_task(
                self.delivery.mark_read(update.channel_id, update.message_id)
            )
            self._receipts.add(receipt)
            receipt.add_done_callback(self._receipts.discard)
        handled = await self.engine.handle(update)
        log.info("message_handled", type=known(update.type, _TYPES), outcome=handled.outcome.value)
        if handled.outbox:
            await self.delivery.deliver(update.channel_id, handled.outbox)
        new_id = _changed_to(update)
        if new_id is not None:
            moved = await move_channel(self.records.ra, update.channel_id, new_id)
            log.info("identity_moved", to=mask_phone(new_id), state_moved=moved)

    async def _status(self, entry: Entry) -> None:
        status = load_unit("status", entry.data)
        if not isinstance(status, InboundStatus) or status.channel_id is None:
            raise UnreadableEntry("status entry does not parse")
        if not await self.records.mark_status(status.channel_id, status.message_id, status.status):
            self.metrics.duplicates.inc()
            return
        self.metrics.statuses.labels(known(status.status, STATUSES)).inc()
        if status.status == "failed":
            for error in status.errors or []:
                self.metrics.status_failures.labels(known_code(error.code)).inc()
                log.warning("whatsapp_delivery_failed", code=error.code, title=(error.title or "")[:100])

    async def _replies(self, entry: Entry) -> None:
        try:
            doc = orjson.loads(entry.data)
            work_id, replies = str(doc["work"]), [orjson.dumps(r) for r in doc["replies"]]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise UnreadableEntry("replies entry does not parse") from exc
        outbox = await self.records.ra.enqueue_replies(entry.channel_id, f"work:{work_id}", replies)
        if outbox:
            await self.delivery.deliver(entry.channel_id, outbox)


def _changed_to(update: InboundMessage) -> str | None:
    """The person's new id when Meta reports a number change (a system message), else None."""
    system = update.raw.system
    if update.type != "system" or system is None or system.type not in IDENTITY_CHANGES:
        return None
    new_id = system.wa_id or getattr(system, "user_id", None)
    if not isinstance(new_id, str) or new_id == update.channel_id or not CHANNEL_ID.match(new_id):
        return None
    return new_id


READ_TYPES = frozenset(
    {"text", "interactive", "button", "contacts", "image", "audio", "video", "document", "location", "sticker"}
)
"""What a person sent and sees ticks on; reactions, edits and system notices are not marked read."""
IDENTITY_CHANGES = frozenset({"user_changed_number", "user_changed_user_id"})
_TYPES = frozenset({"text", "interactive", "button", "image", "audio", "video", "document", "sticker", "location"})
