"""A stub of the Graph API `/messages` endpoint for the webhook benchmarks: answers at once or after a fixed
delay (a real Graph API takes a few hundred ms per send). Two front ends, the same answers:

    [BENCH_STUB_DELAY_MS=300] .venv/bin/python -m uvicorn bench.graph_stub:app --host 127.0.0.1 --port 9100 \\
        --no-access-log                                     # raw ASGI under uvicorn (webhook and soak benches)
    [BENCH_STUB_DELAY_MS=300] .venv/bin/python -m bench.graph_stub --port 9100
                                                            # raw asyncio + httptools (the inbox bench): ~1/3 of
                                                            # uvicorn's CPU per request, which the service under test
                                                            # would otherwise share on this 2-core host

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
import contextlib
import itertools
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httptools
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
        client = tuple(scope["client"] or ("", 0))
        status, answer, delay_s = self.answer(
            scope["method"], scope["path"], scope["query_string"], dict(scope["headers"]), body, client
        )
        if delay_s:
            await asyncio.sleep(delay_s)  # recorded at arrival; answered like a slow Graph API
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": orjson.dumps(answer)})

    def answer(
        self, method: str, path: str, query: bytes, headers: dict[bytes, bytes], body: bytes, client: tuple[Any, ...]
    ) -> tuple[int, Any, float]:
        """(status, JSON answer, seconds to wait before answering): shared by the ASGI app and the raw server."""
        if method == "POST" and path.endswith("/messages"):
            status, answer = self._message(headers, body, client)
            return status, answer, self.delay_s
        if method == "GET" and path == "/count":
            counts = {"count": len(self.replies), "unauthorized": self.unauthorized}
            return 200, counts | {"connections": len(self.clients), "reads": self.reads}, 0.0
        if method == "GET" and path == "/replies":
            return 200, {"replies": self.replies, "last": self.last}, 0.0
        if method == "POST" and path == "/reset":
            self.replies, self.unauthorized, self.clients, self.reads = [], 0, set(), 0
            return 200, {"reset": True}, 0.0
        if method == "POST" and path == "/delay":
            params = dict(part.partition("=")[::2] for part in query.decode().split("&"))
            self.delay_s = _delay_ms(params.get("ms", "0")) / 1000
            return 200, {"delay_ms": round(self.delay_s * 1000)}, 0.0
        return 404, {"error": {"message": "unknown path", "code": 100}}, 0.0

    def _message(self, headers: dict[bytes, bytes], body: bytes, client: tuple[Any, ...]) -> tuple[int, dict[str, Any]]:
        self.clients.add(client)
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


class _Connection(asyncio.Protocol):
    """One keep-alive client connection of the raw server: httptools parses, answers are written in order."""

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client: tuple[Any, ...] = ("", 0)
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP server's: a Transport (uvloop's is not a subclass)
        self.client = tuple(transport.get_extra_info("peername") or ("", 0))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        url = httptools.parse_url(self._url)
        method = self.parser.get_method().decode()
        status, answer, delay_s = self.stub.answer(
            method, url.path.decode(), url.query or b"", self._headers, b"".join(self._body), self.client
        )
        body = orjson.dumps(answer)
        keep = self.parser.should_keep_alive()
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}", "content-type: application/json"]
        lines += [f"content-length: {len(body)}", *([] if keep else ["connection: close"])]
        response = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        if delay_s:
            asyncio.get_running_loop().call_later(delay_s, self._write, response, keep)
        else:
            self._write(response, keep)

    def _write(self, response: bytes, keep: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(response)
        if not keep:
            self.transport.close()


_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found"}


async def serve(host: str, port: int) -> None:
    """The raw server: the same answers as the ASGI app for a fraction of the CPU per request, so that the stub
    takes less of the 2 cores the service under test shares with it (a real Graph API runs on Meta's machines)."""
    stub = Stub()
    server = await asyncio.get_running_loop().create_server(lambda: _Connection(stub), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


app = Stub()


if __name__ == "__main__":
    import argparse

    import uvloop

    parser = argparse.ArgumentParser(description="stub Graph API, raw asyncio server (see the module docstring)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    options = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(options.host, options.port))
