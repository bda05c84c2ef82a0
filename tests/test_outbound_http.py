"""The Cloud API client with its real transport (aiohttp's pool behind httpx), over real sockets."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.whatsapp.messages import Text
from app.whatsapp.outbound import CloudApiClient
from tests.conftest import free_port, make_settings

SCRIPT: list[tuple[int, dict[str, object]]] = []
RECEIVED: list[dict[str, object]] = []
SLOW = {"seconds": 0.0, "open": 0, "most_open": 0}


async def messages(request: Request) -> JSONResponse:
    body = orjson.loads(await request.body())
    RECEIVED.append({"auth": request.headers.get("authorization"), "body": body})
    if SLOW["seconds"]:  # a slow Graph API that counts how many requests it holds at once
        SLOW["open"] += 1
        SLOW["most_open"] = max(SLOW["most_open"], SLOW["open"])
        await asyncio.sleep(SLOW["seconds"])
        SLOW["open"] -= 1
    if SCRIPT:
        status, answer = SCRIPT.pop(0)
        return JSONResponse(answer, status_code=status)
    return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{len(RECEIVED)}"}]})


@pytest.fixture(scope="module")
def graph_url() -> Iterator[str]:
    port = free_port()
    app = Starlette(routes=[Route("/v25.0/{pnid}/messages", messages, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_sends_over_a_real_socket_and_reuses_the_pool(graph_url: str) -> None:
    RECEIVED.clear()
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    client = CloudApiClient(access_token="tok-123", phone_number_id="1122", api_url=graph_url, sleep=record)
    try:
        results = await asyncio.gather(*(client.send("263771234567", Text(body=f"hi {n}")) for n in range(20)))
        assert all(r.ok for r in results) and {r.message_id for r in results} == {f"wamid.{n}" for n in range(1, 21)}
        assert RECEIVED[0]["auth"] == "Bearer tok-123" and RECEIVED[0]["body"]["to"] == "263771234567"
        error = {"error": {"code": 131056, "message": "(#131056) pair rate limit"}}
        SCRIPT.extend([(400, error), (429, error)])
        result = await client.send("263771234567", Text(body="again"))
        assert result.ok and result.attempts == 3 and delays == [1.0, 4.0]
        SCRIPT.append((400, {"error": {"code": 131047, "message": "(#131047) re-engagement"}}))
        refused = await client.send("263771234567", Text(body="late"))
        assert not refused.ok and refused.error_code == 131047 and refused.attempts == 1
    finally:
        await client.aclose()


async def test_an_unreachable_graph_api_is_reported_not_raised() -> None:
    client = CloudApiClient(
        access_token="tok", phone_number_id="1", api_url=f"http://127.0.0.1:{free_port()}", retry_budget=0.5
    )
    try:
        result = await client.send("263771234567", Text(body="hello"))
        assert not result.ok and result.retryable and result.attempts >= 1
    finally:
        await client.aclose()


async def test_sends_beyond_the_pool_wait_for_a_connection_and_are_not_failed_attempts(graph_url: str) -> None:
    """WHATSAPP_MAX_CONNECTIONS bounds the requests open at once; the sends past it wait (untimed) and then go out,
    each in one attempt: a wait for our own pool must never turn a reply Meta would take into a retry or a dead
    letter."""
    RECEIVED.clear()
    SLOW.update(seconds=0.2, open=0, most_open=0)
    settings = make_settings(
        whatsapp_access_token="tok-123",
        whatsapp_api_url=graph_url,
        whatsapp_phone_number_id="1122",
        whatsapp_max_connections=3,
    )
    client = CloudApiClient.from_settings(settings)
    try:
        results = await asyncio.gather(*(client.send("263771234567", Text(body=f"hi {n}")) for n in range(9)))
        assert all(r.ok and r.attempts == 1 for r in results)
        assert len(RECEIVED) == 9 and SLOW["most_open"] == 3
    finally:
        SLOW.update(seconds=0.0)
        await client.aclose()
