"""The WhatsApp webhook: verification handshake (GET) and signed updates (POST), acknowledged once the
updates are durably in the inbox (app/inbox/), never after their handling (app/workers/)."""

from __future__ import annotations

import time
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from app.api.deps import InboxDep, MetricsDep, SettingsDep
from app.api.webhook_docs import RECEIVE_OPENAPI, RECEIVE_RESPONSES, VERIFY_RESPONSES
from app.config import Settings
from app.inbox.inbox import Inbox, NewEntry
from app.metrics import Metrics
from app.state.errors import StateError
from app.whatsapp.inbound import InvalidPayload, load_body
from app.whatsapp.signature import SignatureCheck, verify_signature, verify_token_matches
from app.whatsapp.split import split_body

log = structlog.get_logger(__name__)
router = APIRouter(tags=["whatsapp"])


class WebhookAck(BaseModel):
    status: Literal["ok", "ignored"]
    messages: int = 0
    statuses: int = 0
    rejected: int = 0
    """Malformed updates: logged with their JSON path, counted, acknowledged; the others are unaffected."""
    detail: str | None = None


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

    Nothing here waits for credex-core or the Cloud API: the workers do that after the 200.
    """
    started = time.perf_counter()
    try:
        return await _receive(request, settings, inbox, metrics, signature)
    finally:
        metrics.webhook_seconds.observe(time.perf_counter() - started)


async def _receive(
    request: Request, settings: Settings, inbox: Inbox, metrics: Metrics, signature: str | None
) -> Response:
    body = await _read_limited(request, settings.webhook_max_bytes)
    if body is None:
        return _problem(metrics, 413, "body too large")
    secret = settings.whatsapp_app_secret
    assert secret is not None  # settings refuse to start without one outside development
    check = verify_signature(secret.get_secret_value().encode(), body, signature)
    if check is SignatureCheck.MISSING:
        return _problem(metrics, 401, "missing signature")
    if check is not SignatureCheck.OK:
        return _problem(metrics, 403, "invalid signature")
    try:
        split = split_body(load_body(body))
    except InvalidPayload as exc:
        # A retry would carry the same bytes: acknowledge so Meta does not resend it for 7 days.
        log.error("webhook_invalid_payload", reason=str(exc))
        metrics.webhook_requests.labels("invalid").inc()
        return _ack(WebhookAck(status="ignored", detail="invalid payload"))
    for rejected in split.rejected:
        log.warning("webhook_update_rejected", path=rejected.path, reason=rejected.reason)
        metrics.rejected_updates.labels(rejected.part).inc()
    entries = [NewEntry("m" if u.kind == "message" else "s", u.channel_id, u.data) for u in split.units]
    try:
        await inbox.append(entries)
    except StateError as exc:
        log.warning("webhook_retry_later", reason=str(exc))
        return _problem(metrics, 503, "inbox unavailable, retry later")
    for entry in entries:
        metrics.inbox_appended.labels(entry.kind).inc()
    metrics.webhook_requests.labels("ok").inc()
    return _ack(
        WebhookAck(
            status="ok",
            messages=sum(u.kind == "message" for u in split.units),
            statuses=sum(u.kind == "status" for u in split.units),
            rejected=len(split.rejected),
        )
    )


def _ack(ack: WebhookAck) -> Response:
    """Serialised once by pydantic's core: a Response is passed through as it is, where the declared response
    model would be validated and encoded again on every POST (the route runs a thousand times a second)."""
    return Response(ack.model_dump_json(), media_type="application/json")


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


def _problem(metrics: Metrics, status: int, detail: str) -> JSONResponse:
    metrics.webhook_requests.labels(str(status)).inc()
    return JSONResponse({"detail": detail}, status_code=status)
