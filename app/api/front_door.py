"""The ASGI front door: `POST /webhook` answered before the framework's routing, middleware and dependency
solving, which cost more CPU per POST than verifying, splitting and appending the updates (bench/RESULTS.md,
"Where the time goes"). Meta sends every update of every person through this one operation, so it is the
service's hot path; everything else passes through to the FastAPI app unchanged.

The rules are the route's own (app/api/webhook_receive.py); this only reads the body within WEBHOOK_MAX_BYTES,
takes the signature header and sends the answer with the same security headers as every other answer.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import State

from app.api.security import HEADERS, JSON_CSP
from app.api.webhook_receive import receive_body

PATH = "/webhook"
_SIGNATURE = b"x-hub-signature-256"
_LENGTH = b"content-length"
_JSON = (b"content-type", b"application/json")


class WebhookFrontDoor:
    """Outermost ASGI wrapper; `state` is the app's, filled by its lifespan (settings, inbox, metrics)."""

    def __init__(self, app: Any, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        inbox = getattr(self.state, "inbox", None)
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" or inbox is None:
            await self.app(scope, receive, send)
            return
        settings = self.state.settings
        signature: str | None = None
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == _SIGNATURE and signature is None:
                signature = value.decode("latin-1")
            elif name == _LENGTH:
                declared = value
        try:
            body = await _read_limited(receive, declared, settings.webhook_max_bytes)
        except _ClientGone:
            return  # Meta hung up before the body was in: nobody to answer, nothing appended
        answer = await receive_body(body, signature, settings, inbox, self.state.metrics)
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
