"""The development sink: what a send would have POSTed to the Cloud API, stored per channel (bounded).

Used when no WHATSAPP_ACCESS_TOKEN is set. `GET /dev/outbox/{channel}` and the simulator read it: each item has
the exact request body (`request`: messaging_product, to, type, ...) and the message model it was built from.
"""

from __future__ import annotations

import itertools

import orjson

from app.state.side_records import SideRecords
from app.whatsapp.messages import OUTBOUND_MESSAGE, MarkRead, OutboundMessage
from app.whatsapp.outbound import SendResult


class DevSink:
    def __init__(self, records: SideRecords) -> None:
        self.records = records
        self._ids = itertools.count(1)

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        if isinstance(message, MarkRead):  # read receipts are not messages a person reads: kept out of the outbox
            return SendResult(ok=True)
        doc = {"request": message.to_payload(recipient), "message": OUTBOUND_MESSAGE.dump_python(message, mode="json")}
        seq = await self.records.outbox_push(recipient, [orjson.dumps(doc).decode()])
        return SendResult(ok=True, message_id=f"wamid.dev.{seq}.{next(self._ids)}")
