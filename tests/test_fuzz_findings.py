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
