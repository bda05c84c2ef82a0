"""Development-only routes: the outbox where replies land when no Cloud API token is configured."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from app.api.deps import RecordsDep
from app.channel_ids import CHANNEL_ID_PATTERN

router = APIRouter(prefix="/dev", tags=["development"])


class OutboxItem(BaseModel):
    seq: int
    request: dict[str, Any] | None = None
    """The exact Cloud API request body the send would have POSTed."""
    message: dict[str, Any]
    """The message model it was built from."""
    sent_at: int | None = None
    """When the sink took it, epoch milliseconds (absent on items written before the sink kept times)."""
    wamid: str | None = None
    """The message id the send answered, as a template's quick-reply tap quotes it in `context.id`."""


class OutboxPage(BaseModel):
    channel_id: str
    items: list[OutboxItem]
    last_seq: int


@router.get("/outbox/{channel_id}", response_model=OutboxPage, summary="Replies sent to a channel (dev outbox)")
async def outbox(
    channel_id: Annotated[str, Path(pattern=CHANNEL_ID_PATTERN)],
    records: RecordsDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> OutboxPage:
    entries = await records.outbox_read(channel_id, after)
    items = [_item(e.seq, orjson.loads(e.message_json)) for e in entries]
    return OutboxPage(channel_id=channel_id, items=items, last_seq=items[-1].seq if items else after)


def _item(seq: int, doc: dict[str, Any]) -> OutboxItem:
    if "request" in doc and "message" in doc:
        return OutboxItem(
            seq=seq, request=doc["request"], message=doc["message"], sent_at=doc.get("sent_at"), wamid=doc.get("wamid")
        )
    return OutboxItem(seq=seq, message=doc)  # written before the sink kept request bodies
