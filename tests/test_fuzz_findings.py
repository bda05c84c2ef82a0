"""Regression tests for what the fuzz tests (test_fuzz_api.py, test_fuzz_webhook.py) found, one per finding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.whatsapp.inbound import load_body
from app.whatsapp.split import load_unit, split_body
from tests.webhook_kit import Bot, envelope, text_message, value


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/webhook", "GET, POST"),
        ("PUT", "/admin/sessions/263770000001", "GET, DELETE"),
        ("POST", "/health", "GET"),
    ],
)
async def test_a_405_lists_every_method_of_the_path(bot: Bot, method: str, path: str, allowed: str) -> None:
    """Starlette listed only the first matching route's methods (`Allow: GET` on /webhook, which takes POST)."""
    response = await bot.client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json() == {"detail": "Method Not Allowed"}


async def test_other_http_errors_are_answered_as_before(bot: Bot) -> None:
    response = await bot.client.get("/no-such-route")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


async def test_the_simulators_refusals_are_documented(bot: Bot) -> None:
    """An unknown asset is a 404, a body that is not UTF-8 a 400: both were missing from the document."""
    assert (await bot.client.get("/simulator/static/0")).status_code == 404
    response = await bot.client.post("/simulator/send", content=b"\xff{", headers={"content-type": "application/json"})
    assert response.status_code == 400
    paths = (await bot.client.get("/openapi.json")).json()["paths"]
    assert "404" in paths["/simulator/static/{name}"]["get"]["responses"]
    assert "400" in paths["/simulator/send"]["post"]["responses"]


def _body(message: dict[str, Any]) -> bytes:
    return json.dumps(envelope(value(message))).encode()


@pytest.mark.parametrize("sender", ["2637 7000", "é263770000001", "🦓", "a/b", "x" * 129])
def test_a_sender_id_no_worker_could_handle_is_rejected_at_the_webhook(sender: str) -> None:
    """It was accepted, then failed in the worker 20 times (channel_keys refuses it) and was dead-lettered."""
    split = split_body(load_body(_body(text_message(sender, "hi"))))
    assert split.units == [] and [r.part for r in split.rejected] == ["message"]
    assert sender not in split.rejected[0].reason


async def test_the_webhook_answers_a_bad_sender_id_as_rejected_and_handles_the_rest(bot: Bot) -> None:
    good = value(text_message("263770000009", "hi"))
    bad = value(text_message("2637 7000 0001", "hi"))
    response = await bot.post(json.dumps(envelope(good, bad)).encode())
    assert response.status_code == 200 and (response.json()["messages"], response.json()["rejected"]) == (1, 1)
    assert await bot.texts("263770000009")
    metrics = (await bot.client.get("/metrics")).text
    assert "inbox_dead_letters_total 0.0" in metrics


def _nested(depth: int) -> Any:
    node: Any = "x"
    for n in range(depth):
        node = [node] if n % 2 else {"k": node}
    return node


@pytest.mark.parametrize("depth", [200, 300])
def test_what_the_webhook_accepts_the_worker_can_read(depth: int) -> None:
    """Nesting inside a field: 300 levels made the webhook answer 500 (orjson writes at most 254); 200 was
    accepted and then unreadable for the worker (its JSON parsing stops sooner), so dead-lettered."""
    message = text_message("263770000001", "hi")
    message["context"] = {"from": "15550000000", "id": "wamid.x", "extra": _nested(depth)}
    doc = value(message)
    doc["contacts"][0]["extra"] = _nested(depth)
    split = split_body(load_body(json.dumps(envelope(doc)).encode()))
    for unit in split.units:
        assert load_unit(unit.kind, unit.data) is not None
    assert len(split.units) + len(split.rejected) >= 1


async def test_deep_nesting_in_a_field_is_rejected_not_a_500(bot: Bot) -> None:
    message = text_message("263770000001", "hi")
    message["context"] = {"from": "15550000000", "id": "wamid.x", "extra": _nested(300)}
    response = await bot.post(json.dumps(envelope(value(message))).encode())
    assert response.status_code == 200 and response.json()["rejected"] == 1
    metrics = (await bot.client.get("/metrics")).text
    assert "inbox_dead_letters_total 0.0" in metrics


async def test_a_dead_letter_cursor_beyond_64_bits_is_refused_not_a_503(redis_client: Any) -> None:
    """Redis refuses a stream id past 2^64-1; the admin API answered 503 (store unavailable) for the operator's typo."""
    from tests.webhook_kit import make_app, running, settings

    app = make_app(redis=redis_client, settings=settings(admin_token="admin-token-0123456789"))
    async with running(app) as bot:
        auth = {"Authorization": "Bearer admin-token-0123456789"}
        too_big = {"after": "99999999999999999999-0"}
        response = await bot.client.get("/admin/dead-letters", params=too_big, headers=auth)
        assert response.status_code == 422
        largest = {"after": "18446744073709551614-18446744073709551614"}
        response = await bot.client.get("/admin/dead-letters", params=largest, headers=auth)
        assert response.status_code == 200 and response.json()["items"] == []
        response = await bot.client.post("/admin/dead-letters/99999999999999999999-0/resend", headers=auth)
        assert response.status_code == 422
        response = await bot.client.post("/admin/dead-letters/1-0/resend", headers=auth)
        assert response.status_code == 404
