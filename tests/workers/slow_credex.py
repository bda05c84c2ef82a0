"""A proxy in front of a credex-core (the sandbox, its own process) that holds the answer of chosen writes.

The write reaches credex-core at once and takes effect; its answer is held for HOLD_SECONDS before it is passed
on, so a test can kill the worker that made the call while credex-core has already done it.
GET /proxy/count -> {"/createCredex": n, ...}: the writes that reached credex-core through here.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from typing import Any

import httpx
import orjson

from tests.workers.asgi import answer, lifespan, read_body

UPSTREAM = os.environ["SLOW_CREDEX_UPSTREAM"]
SECONDS = float(os.environ.get("HOLD_SECONDS", "3"))
HOLD = {path: SECONDS for path in os.environ.get("HOLD_PATHS", "").split(",") if path}
counts: Counter[str] = Counter()
client = httpx.AsyncClient(base_url=UPSTREAM, timeout=30)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    body = await read_body(receive)
    path = scope["path"]
    if path == "/proxy/count":
        await answer(send, 200, [(b"content-type", b"application/json")], orjson.dumps(dict(counts)))
        return
    headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length")]
    upstream = await client.request(scope["method"], path, content=body, headers=headers)
    counts[path] += 1
    if path in HOLD:
        await asyncio.sleep(HOLD[path])
    keep = [(k.encode(), v.encode()) for k, v in upstream.headers.items() if k.lower() not in ("content-length",)]
    await answer(send, upstream.status_code, keep, upstream.content)
