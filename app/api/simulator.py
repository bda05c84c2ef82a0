"""Development-only WhatsApp simulator: a phone-like chat page, and a sender that turns what is typed there into
real signed Cloud API webhooks.

The browser must never hold the app secret, so the page posts plain `{phone, text}` (or a tapped reply) to
POST /simulator/send, and this module builds the envelope Meta would send, signs its raw bytes and posts it to the
app's own /webhook in-process. The message therefore takes the production path: signature check, parsing,
per-channel ordering, flows. Replies are read back by the page from the dev outbox (GET /dev/outbox/{phone}).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.api.deps import SettingsDep
from app.config import Settings
from app.whatsapp.messages import BUTTON_ID_MAX, ROW_TITLE_MAX, TEXT_BODY_MAX
from app.whatsapp.signature import sign

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "simulator"
ASSETS: dict[str, str] = {
    "simulator.css": "text/css; charset=utf-8",
    "simulator.js": "text/javascript; charset=utf-8",
}
"""The only files served besides index.html: an allow-list, so no path from the URL ever reaches the disk."""
NO_CACHE = {"Cache-Control": "no-store"}
DISPLAY_NUMBER = "15550000000"

Phone = Annotated[str, StringConstraints(pattern=r"^[0-9]{8,15}$")]


def development_only(settings: SettingsDep) -> None:
    """Defence in depth: the router is only included in development, and refuses to work anywhere else."""
    if not settings.is_development:
        raise HTTPException(status_code=404, detail="Not Found")


router = APIRouter(prefix="/simulator", tags=["development"], dependencies=[Depends(development_only)])


class SimulatorSend(BaseModel):
    """What the person did: typed `text`, or tapped a reply button / list row (`reply_id`, `reply_title`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"phone": "263770000002", "kind": "text", "text": "hi"},
                {"phone": "263770000002", "kind": "button_reply", "reply_id": "menu", "reply_title": "Menu"},
            ]
        },
    )

    phone: Phone
    kind: Literal["text", "button_reply", "list_reply"] = "text"
    text: Annotated[str, Field(min_length=1, max_length=TEXT_BODY_MAX)] | None = None
    reply_id: Annotated[str, Field(min_length=1, max_length=BUTTON_ID_MAX)] | None = None
    reply_title: Annotated[str, Field(min_length=1, max_length=ROW_TITLE_MAX)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=60)] | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> SimulatorSend:
        if self.kind == "text":
            if self.text is None or not self.text.strip():
                raise ValueError("a text message needs non-blank `text`")
            if self.reply_id is not None or self.reply_title is not None:
                raise ValueError("a text message takes no `reply_id` or `reply_title`")
        else:
            if self.reply_id is None:
                raise ValueError(f"a {self.kind} needs `reply_id`")
            if self.text is not None:
                raise ValueError(f"a {self.kind} takes no `text`")
        return self


class SimulatorSent(BaseModel):
    """The webhook's answer, passed through so the page can show a failed delivery."""

    wamid: str
    webhook_status: int
    webhook: dict[str, Any] | None = None


def new_wamid() -> str:
    """Unique like Meta's ids, so the webhook's duplicate detection never swallows a simulated message."""
    return f"wamid.SIM{secrets.token_hex(16).upper()}"


def build_message(body: SimulatorSend, wamid: str, now: int) -> dict[str, Any]:
    message: dict[str, Any] = {"from": body.phone, "id": wamid, "timestamp": str(now)}
    if body.kind == "text":
        message |= {"type": "text", "text": {"body": body.text}}
    else:
        reply = {"id": body.reply_id, "title": body.reply_title or body.reply_id}
        message |= {"type": "interactive", "interactive": {"type": body.kind, body.kind: reply}}
    return message


def build_envelope(body: SimulatorSend, settings: Settings, wamid: str, now: int | None = None) -> dict[str, Any]:
    """The Cloud API webhook shape for one inbound message, contacts included (wa_id, user_id, profile)."""
    contact = {
        "profile": {"name": body.name or f"Simulator {body.phone[-4:]}"},
        "wa_id": body.phone,
        "user_id": f"ZW.SIM{body.phone}",
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": settings.whatsapp_phone_number_id},
        "contacts": [contact],
        "messages": [build_message(body, wamid, int(time.time()) if now is None else now)],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "SIMULATOR_WABA", "changes": [{"field": "messages", "value": value}]}],
    }


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
async def send(body: SimulatorSend, request: Request, settings: SettingsDep) -> JSONResponse:
    secret = settings.whatsapp_app_secret
    assert secret is not None  # development always generates one
    wamid = new_wamid()
    raw = orjson.dumps(build_envelope(body, settings, wamid))
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret.get_secret_value().encode(), raw)}
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as client:
        response = await client.post("/webhook", content=raw, headers=headers)
    try:
        ack = response.json()
    except ValueError:
        ack = None
    webhook = ack if isinstance(ack, dict) else None
    result = SimulatorSent(wamid=wamid, webhook_status=response.status_code, webhook=webhook)
    return JSONResponse(result.model_dump(), status_code=response.status_code)
