"""The reply outbox's documents: `{"to": channel, "id": "<message id>.<n>", "m": <outbound message>}`.

The commit script stores them; the sender reads them back. The message model (not the Cloud API body) is kept,
so the body is built at send time by the same code that validates every WhatsApp limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from app.whatsapp.messages import OUTBOUND_MESSAGE, OutboundMessage


@dataclass(frozen=True, slots=True)
class Reply:
    raw: bytes
    """Exactly as stored: the ack script compares it with the outbox's head."""
    to: str
    id: str
    message: OutboundMessage


class UnreadableReply(ValueError):
    pass


def encode_replies(channel_id: str, message_id: str, messages: list[Any]) -> list[bytes]:
    return [
        orjson.dumps({"to": channel_id, "id": f"{message_id}.{n}", "m": OUTBOUND_MESSAGE.dump_python(m, mode="json")})
        for n, m in enumerate(messages)
    ]


def decode_reply(raw: bytes) -> Reply:
    try:
        doc = orjson.loads(raw)
        return Reply(raw, str(doc["to"]), str(doc["id"]), OUTBOUND_MESSAGE.validate_python(doc["m"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
        raise UnreadableReply(type(exc).__name__) from exc
