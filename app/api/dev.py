"""Development-only routes: the outbox where replies land when no Cloud API token is configured."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.deps import RecordsDep

router = APIRouter(prefix="/dev", tags=["development"])


class OutboxItem(BaseModel):
    seq: int
    message: dict[str, Any]


class OutboxPage(BaseModel):
    channel_id: str
    items: list[OutboxItem]
    last_seq: int


@router.get("/outbox/{channel_id}", response_model=OutboxPage, summary="Replies sent to a channel (dev outbox)")
async def outbox(channel_id: str, records: RecordsDep, after: Annotated[int, Query(ge=0)] = 0) -> OutboxPage:
    entries = await records.outbox_read(channel_id, after)
    items = [OutboxItem(seq=e.seq, message=orjson.loads(e.message_json)) for e in entries]
    return OutboxPage(channel_id=channel_id, items=items, last_seq=items[-1].seq if items else after)
