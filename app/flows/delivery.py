"""Delivering a session's queued replies after its commit: to the Cloud API, or to the dev outbox."""

from __future__ import annotations

from typing import Any

import structlog

from app.metrics import Metrics
from app.state.side_records import SideRecords
from app.whatsapp.messages import OUTBOUND_MESSAGE, OutboundMessage
from app.whatsapp.outbound import Sender, SendResult

log = structlog.get_logger(__name__)


class OutboxSender:
    """Used when no WHATSAPP_ACCESS_TOKEN is set: replies are kept per channel in the state store (bounded),
    readable at GET /dev/outbox/{channel} in development, which is where the simulator reads them."""

    def __init__(self, records: SideRecords) -> None:
        self.records = records

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        seq = await self.records.outbox_push(recipient, [OUTBOUND_MESSAGE.dump_json(message).decode()])
        return SendResult(ok=True, message_id=f"outbox.{seq}")


class Delivery:
    """Sends one channel's replies in order; a failed reply is logged and counted, never raised, because
    the state it answers is already committed."""

    def __init__(self, sender: Sender, metrics: Metrics) -> None:
        self.sender = sender
        self.metrics = metrics

    async def __call__(self, channel_id: str, messages: list[Any]) -> None:
        for message in messages:
            try:
                result = await self.sender.send(channel_id, message)
            except Exception as exc:  # a sender bug must not undo a committed step
                log.error("reply_send_crashed", error=type(exc).__name__)
                self.metrics.outbound.labels("crashed", "").inc()
                continue
            code = "" if result.error_code is None else str(result.error_code)
            self.metrics.outbound.labels("ok" if result.ok else "failed", code).inc()
            if not result.ok:
                log.warning("reply_not_delivered", code=result.error_code, attempts=result.attempts)
