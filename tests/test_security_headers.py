"""No Host header reflected, and the standard security headers on every answer."""

from __future__ import annotations

from tests.webhook_kit import Bot


async def test_a_trailing_slash_is_not_redirected_to_the_callers_host(bot: Bot) -> None:
    response = await bot.client.get("/health/", headers={"Host": "evil.example"})
    assert response.status_code == 404 and "location" not in response.headers


async def test_security_headers_on_json_answers(bot: Bot) -> None:
    response = await bot.client.get("/health")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
