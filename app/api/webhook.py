"""The WhatsApp webhook: verification handshake (GET) and signed updates (POST), acknowledged once the
updates are durably in the inbox (app/inbox/), never after their handling (app/workers/)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse, Response

from app.api.deps import InboxDep, MetricsDep, SettingsDep
from app.api.webhook_docs import RECEIVE_OPENAPI, RECEIVE_RESPONSES, VERIFY_RESPONSES
from app.api.webhook_receive import WebhookAck, receive_body
from app.logs import get_logger
from app.whatsapp.signature import verify_token_matches

log = get_logger(__name__)
router = APIRouter(tags=["whatsapp"])
__all__ = ["WebhookAck", "router"]


@router.get(
    "/webhook",
    summary="Meta's verification handshake",
    response_class=PlainTextResponse,
    responses=VERIFY_RESPONSES,
)
async def verify(
    settings: SettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=512)] = "",
) -> PlainTextResponse:
    expected = settings.whatsapp_verify_token
    if mode == "subscribe" and expected is not None and verify_token_matches(expected.get_secret_value(), token):
        return PlainTextResponse(challenge)
    log.warning("webhook_verification_refused", mode=mode if mode in (None, "subscribe") else "other")
    return PlainTextResponse("forbidden", status_code=403)


@router.post(
    "/webhook",
    summary="Updates from the WhatsApp Cloud API",
    response_model=WebhookAck,
    openapi_extra=RECEIVE_OPENAPI,
    responses=RECEIVE_RESPONSES,
)
async def receive(
    request: Request,
    settings: SettingsDep,
    inbox: InboxDep,
    metrics: MetricsDep,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> Response:
    """Verify, split, validate each update on its own, append the valid ones to the inbox, answer.

    The running service answers this operation in its front door (app/api/front_door.py) with the same rules
    (app/api/webhook_receive.py); this route documents it and serves wherever the front door is not in place.
    """
    body = await _read_limited(request, settings.webhook_max_bytes)
    answer = await receive_body(body, signature, settings, inbox, metrics)
    return Response(answer.body, status_code=answer.status, media_type="application/json")


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
