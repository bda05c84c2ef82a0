"""The ASGI front door: `POST /webhook` answered before the framework's routing, middleware and dependency
solving, which cost more CPU per POST than verifying, splitting and appending the updates (bench/RESULTS.md,
"Where the time goes"). Meta sends every update of every person through this one operation, so it is the
service's hot path; everything else passes through to the FastAPI app unchanged.

It is the app's own first move (`ServiceApp.__call__`), not a middleware: FastAPI puts its error, telemetry and
body-limit layers outside every user middleware, and those cost a tenth of a POST's CPU (the telemetry layer
reads the environment on each request). Nothing they do is lost here: the body limit is WEBHOOK_MAX_BYTES, an
unexpected error is logged and answered 500 (Meta retries it), and there is no span to record.

The rules are the route's own (app/api/webhook_receive.py); this only reads the body within WEBHOOK_MAX_BYTES,
takes the signature header and sends the answer with the same security headers as every other answer.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app.api.security import HEADERS, JSON_CSP
from app.api.webhook_receive import Answer, receive_body
from app.logs import get_logger

log = get_logger(__name__)

PATH = "/webhook"
_SIGNATURE = b"x-hub-signature-256"
_LENGTH = b"content-length"
_JSON = (b"content-type", b"application/json")


class ServiceApp(FastAPI):
    """The FastAPI app, with POST /webhook answered ahead of it once the lifespan has set up the inbox (before
    that, and for every other request, the app answers as usual: the route returns 503 while starting)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST":
            if getattr(self.state, "inbox", None) is not None:
                await self._front_door(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _front_door(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        signature: str | None = None
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == _SIGNATURE and signature is None:
                signature = value.decode("latin-1")
            elif name == _LENGTH:
                declared = value
        try:
            body = await _read_limited(receive, declared, state.settings.webhook_max_bytes)
        except _ClientGone:
            return  # Meta hung up before the body was in: nobody to answer, nothing appended
        try:
            answer = await receive_body(body, signature, state.settings, state.inbox, state.metrics)
        except Exception:  # a bug, not a verdict on the body: 500, which Meta retries
            log.exception("webhook_failed")
            state.metrics.webhook_requests.labels("500").inc()
            answer = Answer(500, orjson.dumps({"detail": "internal error"}))
        headers = [_JSON, (_LENGTH, str(len(answer.body)).encode()), *HEADERS, JSON_CSP]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


class _ClientGone(Exception):
    pass


async def _read_limited(receive: Any, declared: bytes | None, limit: int) -> bytes | None:
    """The whole body, or None when it is over `limit` (declared or streamed)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
