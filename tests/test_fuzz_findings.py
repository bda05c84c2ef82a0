"""Regression tests for what the fuzz tests (test_fuzz_api.py, test_fuzz_webhook.py) found, one per finding."""

from __future__ import annotations

import pytest

from tests.webhook_kit import Bot


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
