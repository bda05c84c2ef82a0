"""A stub of the Graph API `/messages` endpoint for the webhook benchmarks: raw ASGI, answers at once or after a
fixed delay (a real Graph API takes a few hundred ms per send).

    [BENCH_STUB_DELAY_MS=300] .venv/bin/python -m uvicorn bench.graph_stub:app --host 127.0.0.1 --port 9100 \\
        --no-access-log

POST .../messages  -> Meta's success body; the reply is recorded as (marker, time.monotonic()), where the
                      marker is the `k<digits>` token the load generator put in the text it sent, so the bench can
                      check that every message got exactly one reply and when (CLOCK_MONOTONIC is shared by all
                      processes of the host).
GET  /count        -> {"count": replies, "unauthorized": posts without the expected bearer token,
                       "connections": distinct client connections that posted (keep-alive reuse shows here),
                       "reads": mark-as-read requests (`"status": "read"`), answered but not counted as replies}
GET  /replies      -> {"replies": [[marker, t], ...], "last": the last request body}   (marker null: none in the text)
POST /reset        -> forget everything
POST /delay?ms=N   -> answer every later send after N ms (default: BENCH_STUB_DELAY_MS, else 0)
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MARKER = re.compile(r"k(\d+)")
EXPECTED_AUTH = f"Bearer {os.environ.get('BENCH_STUB_TOKEN', 'bench-token')}".encode()
JSON_HEADERS = [(b"content-type", b"application/json")]
MAX_DELAY_MS = 60_000


class Stub:
    def __init__(self) -> None:
        self.replies: list[tuple[int | None, float]] = []
        self.unauthorized = 0
        self.reads = 0
        self.clients: set[tuple[str, int]] = set()
        self.last: Any = None
        self._ids = itertools.count(1)
        self.delay_s = _delay_ms(os.environ.get("BENCH_STUB_DELAY_MS", "0")) / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = await _read(receive)
        method, path = scope["method"], scope["path"]
        if method == "POST" and path.endswith("/messages"):
            status, answer = self._message(scope, body)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)  # recorded at arrival above; answered like a slow Graph API
        elif method == "GET" and path == "/count":
            status, answer = (
                200,
                {
                    "count": len(self.replies),
                    "unauthorized": self.unauthorized,
                    "connections": len(self.clients),
                    "reads": self.reads,
                },
            )
        elif method == "GET" and path == "/replies":
            status, answer = 200, {"replies": self.replies, "last": self.last}
        elif method == "POST" and path == "/reset":
            self.replies, self.unauthorized, self.clients, self.reads = [], 0, set(), 0
            status, answer = 200, {"reset": True}
        elif method == "POST" and path == "/delay":
            query = dict(part.partition("=")[::2] for part in scope["query_string"].decode().split("&"))
            self.delay_s = _delay_ms(query.get("ms", "0")) / 1000
            status, answer = 200, {"delay_ms": round(self.delay_s * 1000)}
        else:
            status, answer = 404, {"error": {"message": "unknown path", "code": 100}}
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": orjson.dumps(answer)})

    def _message(self, scope: Scope, body: bytes) -> tuple[int, dict[str, Any]]:
        self.clients.add(tuple(scope["client"] or ("", 0)))
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != EXPECTED_AUTH:
            self.unauthorized += 1
            return 401, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}
        payload = orjson.loads(body)
        recipient = payload.get("to") or payload.get("recipient") or ""
        if payload.get("status") == "read":  # blue ticks (and typing): not a reply
            self.reads += 1
            return 200, {"success": True}
        self.last = payload
        text = (payload.get("text") or {}).get("body") or ""
        found = MARKER.search(text)
        self.replies.append((int(found.group(1)) if found else None, time.monotonic()))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": recipient}],
            "messages": [{"id": f"wamid.stub.{next(self._ids)}"}],
        }


def _delay_ms(text: str) -> int:
    return max(0, min(MAX_DELAY_MS, int(text))) if text.strip().isdigit() else 0


async def _read(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


app = Stub()
