"""The ASGI front door answers POST /webhook exactly as the documented FastAPI route would, appends the same
updates, sends the security headers, and leaves every other request to the app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.webhook_kit import Bot, body_of, envelope, make_app, running, settings, signed, text_message, value

LIMIT = 2048


class RouteOnly:
    """The app as FastAPI alone would answer: routing, middleware and the documented route, no front door."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await FastAPI.__call__(self.app, scope, receive, send)


@pytest.fixture
async def pair(redis_client: Redis) -> AsyncIterator[tuple[Bot, httpx.AsyncClient]]:
    app = make_app(redis=redis_client, settings=settings(webhook_max_bytes=LIMIT))
    async with running(app) as bot:
        transport = httpx.ASGITransport(app=RouteOnly(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as route:
            yield bot, route


def _malformed_beside_two() -> bytes:
    bad = text_message("263770000003", "x")
    bad["text"] = {"body": 7}
    return json.dumps(
        envelope(value(text_message("263770000001", "a"), text_message("263770000002", "b"), bad))
    ).encode()


CASES: dict[str, tuple[bytes, dict[str, str] | None]] = {
    "valid": (body_of(text_message("263770000001", "hi")), None),
    "missing signature": (body_of(text_message("263770000001", "hi")), {"Content-Type": "application/json"}),
    "wrong signature": (body_of(text_message("263770000001", "hi")), signed(b"other")),
    "not json": (b"{not json", None),
    "not an envelope": (b'{"object": "page"}', None),
    "one malformed update beside two": (_malformed_beside_two(), None),
    "too large": (b" " * (LIMIT + 1), None),
}


async def _inbox_size(bot: Bot) -> int:
    inbox = bot.app.state.inbox
    return sum([await inbox.redis.xlen(inbox.stream_for(f"26377000000{n}")) for n in (1, 2, 3)])


@pytest.mark.parametrize("case", list(CASES))
async def test_the_front_door_answers_as_the_route_does(pair: tuple[Bot, httpx.AsyncClient], case: str) -> None:
    bot, route = pair
    body, headers = CASES[case]
    headers = signed(body) if headers is None else headers
    before = await _inbox_size(bot)
    door = await bot.client.post("/webhook", content=body, headers=headers)
    appended_by_door = await _inbox_size(bot) - before
    by_route = await route.post("/webhook", content=body, headers=headers)
    appended_by_route = await _inbox_size(bot) - before - appended_by_door
    assert (door.status_code, door.json()) == (by_route.status_code, by_route.json())
    assert appended_by_door == appended_by_route
    assert door.headers["content-type"] == "application/json"
    assert door.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in door.headers["content-security-policy"]
    if case == "one malformed update beside two":
        assert door.json() == {"status": "ok", "messages": 2, "statuses": 0, "rejected": 1, "detail": None}
        assert appended_by_door == 2


async def test_a_body_streamed_in_chunks_is_read_whole_and_one_over_the_limit_refused(
    pair: tuple[Bot, httpx.AsyncClient],
) -> None:
    bot, _ = pair
    body = body_of(text_message("263770000001", "in chunks"))

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(data), 50):
            yield data[i : i + 50]

    response = await bot.client.post("/webhook", content=chunks(body), headers=signed(body))
    assert response.status_code == 200 and response.json()["messages"] == 1
    assert await bot.texts("263770000001") == ["#1: in chunks"]
    big = b" " * (LIMIT + 10)  # no content-length: the limit holds while streaming
    response = await bot.client.post("/webhook", content=chunks(big), headers=signed(big))
    assert response.status_code == 413 and response.json() == {"detail": "body too large"}


async def test_a_client_that_hangs_up_mid_body_gets_nothing_appended(pair: tuple[Bot, httpx.AsyncClient]) -> None:
    bot, _ = pair
    body = body_of(text_message("263770000001", "cut"))
    arrivals = [
        {"type": "http.request", "body": body[:40], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return arrivals.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in signed(body).items()]
    scope = {"type": "http", "method": "POST", "path": "/webhook", "headers": headers, "query_string": b""}
    await bot.app(scope, receive, send)
    assert sent == []
    assert await _inbox_size(bot) == 0


async def test_other_requests_pass_through_to_the_app(pair: tuple[Bot, httpx.AsyncClient]) -> None:
    bot, _ = pair
    assert (await bot.client.get("/health")).status_code == 200
    response = await bot.client.put("/webhook", content=b"{}")
    assert response.status_code == 405 and "POST" in response.headers["allow"]


async def test_a_bug_under_the_front_door_is_a_500_that_meta_retries(
    pair: tuple[Bot, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, _ = pair

    async def broken(entries: object) -> None:
        raise RuntimeError("a bug, not a verdict on the body")

    monkeypatch.setattr(bot.app.state.inbox, "append", broken)
    body = body_of(text_message("263770000001", "hi"))
    response = await bot.client.post("/webhook", content=body, headers=signed(body))
    assert response.status_code == 500 and response.json() == {"detail": "internal error"}
    assert response.headers["x-content-type-options"] == "nosniff"
    monkeypatch.undo()
    response = await bot.client.post("/webhook", content=body, headers=signed(body))  # Meta's retry
    assert response.status_code == 200 and response.json()["messages"] == 1
    assert await bot.texts("263770000001") == ["#1: hi"]
