"""The development sink: what a send would have POSTed to the Cloud API, stored per channel (bounded).

Used when no WHATSAPP_ACCESS_TOKEN is set. `GET /dev/outbox/{channel}` and the simulator read it: each item has
the exact request body (`request`: messaging_product, to, type, ...), the message model it was built from, when it
was sent (`sent_at`, epoch ms) and the wamid the send answered (a quick-reply tap on a template quotes it).

`DevHistory` keeps the other side for the simulator: what the person sent from the page, and which of those the
bot marked read (blue ticks), so a reload shows the whole conversation with its real times. Lists beside the dev
outbox, under the channel's hash tag (one slot), as bounded and as short-lived as the outbox.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson

from app.state.keys import channel_keys
from app.state.side_records import OUTBOX_KEEP, OUTBOX_TTL_MS, SideRecords
from app.whatsapp.messages import OUTBOUND_MESSAGE, MarkRead, OutboundMessage
from app.whatsapp.outbound import SendResult


def now_ms() -> int:
    return int(time.time() * 1000)


class DevHistory:
    """The person's messages (as the simulator posted them) and the bot's read receipts, per channel."""

    def __init__(self, records: SideRecords) -> None:
        self.ra = records.ra

    @staticmethod
    def _keys(channel_id: str) -> tuple[str, str]:
        outbox = channel_keys(channel_id).outbox
        return f"{outbox}:inbound", f"{outbox}:read"

    async def _push(self, key: str, value: bytes) -> None:
        """Append, keep the last OUTBOX_KEEP, renew the TTL. Not a transaction (a cluster client pipelines
        without one): a reader between the commands sees at most one item too many, harmless in development."""
        async with self.ra.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, value)
            pipe.ltrim(key, -OUTBOX_KEEP, -1)
            pipe.pexpire(key, OUTBOX_TTL_MS)
            await self.ra.guard(pipe.execute())

    async def record_sent(self, channel_id: str, item: dict[str, Any]) -> None:
        await self._push(self._keys(channel_id)[0], orjson.dumps(item))

    async def mark_read(self, channel_id: str, message_id: str) -> None:
        await self._push(self._keys(channel_id)[1], message_id.encode())

    async def sent(self, channel_id: str) -> list[dict[str, Any]]:
        raw = await self.ra.guard(self.ra.redis.lrange(self._keys(channel_id)[0], 0, -1))
        items = []
        for value in raw:
            try:
                item = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            if isinstance(item, dict):
                items.append(item)
        return items

    async def read_ids(self, channel_id: str) -> set[str]:
        raw = await self.ra.guard(self.ra.redis.lrange(self._keys(channel_id)[1], 0, -1))
        return {v.decode() if isinstance(v, bytes) else str(v) for v in raw}


class DevSink:
    def __init__(self, records: SideRecords) -> None:
        self.records = records
        self.history = DevHistory(records)

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        if isinstance(message, MarkRead):  # not a message a person reads: kept out of the outbox, as ticks
            await self.history.mark_read(recipient, message.message_id)
            return SendResult(ok=True)
        wamid = f"wamid.dev.{secrets.token_hex(12).upper()}"
        doc = {
            "request": message.to_payload(recipient),
            "message": OUTBOUND_MESSAGE.dump_python(message, mode="json"),
            "sent_at": now_ms(),
            "wamid": wamid,
        }
        await self.records.outbox_push(recipient, [orjson.dumps(doc).decode()])
        return SendResult(ok=True, message_id=wamid)
