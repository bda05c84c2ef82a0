"""What `POST /webhook` does, apart from any web framework: verify the signature over the raw bytes, split the
body into updates validated one by one, append the valid ones to the inbox, and say what to answer.

Both doors use it: the ASGI front door (app/api/front_door.py), which every POST to /webhook takes in the
running service, and the FastAPI route (app/api/webhook.py), which documents the operation and serves any
deployment where the front door is not outermost. One body of rules, so the two cannot drift apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import orjson
from pydantic import BaseModel

from app.config import Settings
from app.inbox.inbox import Inbox, NewEntry
from app.logs import get_logger
from app.metrics import Metrics
from app.state.errors import StateError
from app.whatsapp.inbound import InvalidPayload, load_body
from app.whatsapp.signature import SignatureCheck, verify_signature
from app.whatsapp.split import split_body

log = get_logger(__name__)


class WebhookAck(BaseModel):
    status: Literal["ok", "ignored"]
    messages: int = 0
    statuses: int = 0
    rejected: int = 0
    """Malformed updates: logged with their JSON path, counted, acknowledged; the others are unaffected."""
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The status and JSON body to send back to Meta."""

    status: int
    body: bytes


async def receive_body(
    body: bytes | None, signature: str | None, settings: Settings, inbox: Inbox, metrics: Metrics
) -> Answer:
    """`body` is None when it was over WEBHOOK_MAX_BYTES. Nothing here waits for credex-core or the Cloud API:
    the workers do that after the 200."""
    started = time.perf_counter()
    try:
        return await _receive(body, signature, settings, inbox, metrics)
    finally:
        metrics.webhook_seconds.observe(time.perf_counter() - started)


async def _receive(
    body: bytes | None, signature: str | None, settings: Settings, inbox: Inbox, metrics: Metrics
) -> Answer:
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
    messages = sum(entry.kind == "m" for entry in entries)
    if messages:
        metrics.inbox_appended.labels("m").inc(messages)
    if len(entries) > messages:
        metrics.inbox_appended.labels("s").inc(len(entries) - messages)
    metrics.webhook_requests.labels("ok").inc()
    return _ack(
        WebhookAck(status="ok", messages=messages, statuses=len(entries) - messages, rejected=len(split.rejected))
    )


def _ack(ack: WebhookAck) -> Answer:
    return Answer(200, ack.model_dump_json().encode())


def _problem(metrics: Metrics, status: int, detail: str) -> Answer:
    metrics.webhook_requests.labels(str(status)).inc()
    return Answer(status, orjson.dumps({"detail": detail}))
