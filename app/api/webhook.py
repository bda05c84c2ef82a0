"""The WhatsApp webhook: verification handshake (GET) and signed updates (POST)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from app.api.deps import EngineDep, MetricsDep, RecordsDep, SettingsDep
from app.api.webhook_docs import RECEIVE_OPENAPI, RECEIVE_RESPONSES, VERIFY_RESPONSES
from app.flows.engine import Engine
from app.masking import mask_phone
from app.metrics import Metrics
from app.state.errors import StateError
from app.state.side_records import SideRecords
from app.whatsapp.inbound import (
    InboundError,
    InboundMessage,
    InboundStatus,
    InvalidPayload,
    parse_body,
    parse_updates,
)
from app.whatsapp.signature import SignatureCheck, verify_signature, verify_token_matches

log = structlog.get_logger(__name__)
router = APIRouter(tags=["whatsapp"])


class WebhookAck(BaseModel):
    status: Literal["ok", "ignored"]
    messages: int = 0
    statuses: int = 0
    detail: str | None = None


class WebhookProblem(BaseModel):
    detail: str


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
    log.warning("webhook_verification_refused", mode=mode)
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
    engine: EngineDep,
    records: RecordsDep,
    metrics: MetricsDep,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> WebhookAck | JSONResponse:
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
        payload = parse_body(body)
    except InvalidPayload as exc:
        # A retry would carry the same bytes: acknowledge so Meta does not resend it for 7 days.
        log.error("webhook_invalid_payload", reason=str(exc))
        metrics.webhook_requests.labels("invalid").inc()
        return WebhookAck(status="ignored", detail="invalid payload")
    updates = parse_updates(payload)
    by_channel: dict[str, list[InboundMessage | InboundStatus]] = defaultdict(list)
    for update in updates:
        if isinstance(update, InboundError):
            log.warning("whatsapp_value_error", code=update.code, title=update.title)
        elif update.channel_id is not None:
            by_channel[update.channel_id].append(update)
        else:
            log.info("whatsapp_status_without_channel", status=update.status)
    results = await asyncio.gather(
        *(_handle_channel(items, engine, records, metrics) for items in by_channel.values()), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        if not isinstance(failure, StateError):
            raise failure
    if failures:
        log.warning("webhook_retry_later", reason=str(failures[0]))
        return _problem(metrics, 503, "state store unavailable, retry later")
    metrics.webhook_requests.labels("ok").inc()
    return WebhookAck(
        status="ok",
        messages=sum(isinstance(u, InboundMessage) for u in updates),
        statuses=sum(isinstance(u, InboundStatus) for u in updates),
    )


async def _handle_channel(
    items: list[InboundMessage | InboundStatus], engine: Engine, records: SideRecords, metrics: Metrics
) -> None:
    """One person's updates, strictly in order; a store failure stops the rest (they come back on retry)."""
    for item in items:
        structlog.contextvars.bind_contextvars(
            correlation_id=item.message_id, channel=mask_phone(item.channel_id or "")
        )
        try:
            if isinstance(item, InboundMessage):
                outcome = await engine.handle(item)
                log.info("message_handled", type=item.type, outcome=outcome.value)
            else:
                await _record_status(item, records, metrics)
        except ValueError as exc:  # a channel id we cannot key (malformed): skip it, never loop on it
            log.warning("update_skipped", reason=str(exc))
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "channel")


async def _record_status(status: InboundStatus, records: SideRecords, metrics: Metrics) -> None:
    assert status.channel_id is not None
    if not await records.mark_status(status.channel_id, status.message_id, status.status):
        metrics.duplicates.inc()
        return
    metrics.statuses.labels(status.status).inc()
    if status.status == "failed":
        for error in status.errors or []:
            metrics.status_failures.labels(str(error.code)).inc()
            log.warning("whatsapp_delivery_failed", code=error.code, title=error.title)


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
