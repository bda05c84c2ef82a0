"""Development-only WhatsApp simulator: a phone-like chat page, and a sender that turns what the person does there
into real signed Cloud API webhooks.

The browser must never hold the app secret, so the page posts what the person did (`SimulatorSend`: typed text, a
tap, a photo, a place, a voice note, a contact card) to POST /simulator/send, and this module builds the envelope
Meta would send (simulator_payloads.py), signs its raw bytes and posts it to the app's own /webhook in-process.
The message therefore takes the production path: signature check, parsing, per-channel ordering, flows. Replies
are read back by the page from the dev outbox; GET /simulator/history/{phone} gives both sides with their times.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from app.api.deps import RecordsDep, SettingsDep
from app.api.simulator_payloads import Phone, SimulatorSend, build_envelope, new_wamid
from app.sender.devsink import DevHistory
from app.state.errors import StateError
from app.whatsapp.signature import sign
from app.whatsapp.templates import APPROVED

__all__ = ["SimulatorSend", "build_envelope", "router"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "simulator"
ASSETS: dict[str, str] = {
    "simulator.css": "text/css; charset=utf-8",
    **{f"{name}.js": "text/javascript; charset=utf-8" for name in ("simulator", "dom", "bubbles", "attach")},
}
"""The only files served besides index.html: an allow-list, so no path from the URL ever reaches the disk."""
NO_CACHE = {"Cache-Control": "no-store"}


def development_only(settings: SettingsDep) -> None:
    """Defence in depth: the router is only included in development, and refuses to work anywhere else."""
    if not settings.is_development:
        raise HTTPException(status_code=404, detail="Not Found")


router = APIRouter(prefix="/simulator", tags=["development"], dependencies=[Depends(development_only)])


class SimulatorSent(BaseModel):
    """The webhook's answer, passed through so the page can show a failed delivery; `at` is when it was sent."""

    wamid: str
    at: int
    webhook_status: int
    webhook: dict[str, Any] | None = None


class HistoryItem(BaseModel):
    """One bubble: `me` (what the page sent, `send`) or `bot` (a dev-outbox item: `seq`, `request`, `message`)."""

    side: Literal["me", "bot"]
    at: int | None
    """Epoch milliseconds when it was really sent."""
    wamid: str | None = None
    send: dict[str, Any] | None = None
    status: int | None = None
    """The webhook's HTTP status for a `me` item (200: delivered to the bot)."""
    seq: int | None = None
    request: dict[str, Any] | None = None
    message: dict[str, Any] | None = None


class History(BaseModel):
    items: list[HistoryItem]
    last_seq: int
    read: list[str]
    """The person's wamids the bot marked read (blue ticks)."""


class ApprovedTemplateOut(BaseModel):
    language: str
    body: str
    quick_replies: list[str]


@router.get("", summary="The chat simulator page", response_class=FileResponse)
async def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=NO_CACHE)


@router.get(
    "/static/{name}",
    summary="The simulator's stylesheet and script",
    response_class=FileResponse,
    responses={404: {"description": "not one of the simulator's files"}},
)
async def asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=NO_CACHE)


@router.post(
    "/send",
    summary="Send a simulated message through the real, signed webhook",
    response_model=SimulatorSent,
    responses={
        400: {"description": "the body is not UTF-8 text, so it cannot be read as JSON"},
        503: {"model": SimulatorSent, "description": "the webhook asked to retry later"},
    },
)
async def send(body: SimulatorSend, request: Request, settings: SettingsDep, records: RecordsDep) -> JSONResponse:
    secret = settings.whatsapp_app_secret
    assert secret is not None  # development always generates one
    wamid, at = new_wamid(), int(time.time() * 1000)
    raw = orjson.dumps(build_envelope(body, settings, wamid, now=at // 1000))
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret.get_secret_value().encode(), raw)}
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as client:
        response = await client.post("/webhook", content=raw, headers=headers)
    try:
        ack = response.json()
    except ValueError:
        ack = None
    webhook = ack if isinstance(ack, dict) else None
    item = {"at": at, "wamid": wamid, "send": body.shown(), "status": response.status_code}
    try:
        await DevHistory(records).record_sent(body.phone, item)
    except StateError:
        pass  # the store is down: the webhook said so already (503), and the page shows the failed delivery
    result = SimulatorSent(wamid=wamid, at=at, webhook_status=response.status_code, webhook=webhook)
    return JSONResponse(result.model_dump(), status_code=response.status_code)


@router.get("/history/{phone}", response_model=History, summary="Both sides of a number's conversation, in order")
async def history(
    phone: Annotated[Phone, PathParam()],
    records: RecordsDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> History:
    """`after=0`: every bubble kept (the last 200 each way, for 24 hours), the person's and the bot's, in the
    order they were sent. `after=N`: only the bot's messages after outbox seq N, for polling (the page drew the
    person's own as they were sent). `read` always lists which of the person's messages the bot has read."""
    dev = DevHistory(records)
    bot = [
        HistoryItem(side="bot", at=doc.get("sent_at"), wamid=doc.get("wamid"), seq=e.seq, **_outbox_doc(doc))
        for e in await records.outbox_read(phone, after)
        for doc in (orjson.loads(e.message_json),)
    ]
    mine = [] if after else [HistoryItem(side="me", **_sent_item(item)) for item in await dev.sent(phone)]
    items = sorted(mine + bot, key=lambda i: (i.at or 0, i.side == "bot", i.seq or 0))
    last_seq = max((i.seq or 0 for i in bot), default=after)
    return History(items=items, last_seq=last_seq, read=sorted(await dev.read_ids(phone)))


def _outbox_doc(doc: dict[str, Any]) -> dict[str, Any]:
    if "request" in doc and "message" in doc:
        return {"request": doc["request"], "message": doc["message"]}
    return {"message": doc}  # written before the sink kept request bodies


def _sent_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item.get(k) for k in ("at", "wamid", "send", "status")}


@router.get(
    "/templates",
    response_model=dict[str, ApprovedTemplateOut],
    summary="The approved templates' texts, so the page shows a template as the person reads it",
)
async def templates() -> dict[str, ApprovedTemplateOut]:
    return {
        name: ApprovedTemplateOut(language=t.language, body=t.body, quick_replies=list(t.quick_replies))
        for name, t in APPROVED.items()
    }
