"""Admin API, metrics, readiness and what reaches the logs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from app.logs import redact_secrets
from app.state.keys import channel_keys
from tests.conftest import RedisProcess
from tests.flows_kit import ALICE, Person, bot_with, make_bot_app
from tests.webhook_kit import APP_SECRET, Bot, running, settings

ADMIN = "admin-token-0123456789abcdef"
ACCESS = "EAAGm0PX4ZCpsBAKZCZCaccess0123456789"


@pytest.fixture
async def bot(redis_client: Redis) -> AsyncIterator[Bot]:
    async with bot_with(redis_client, admin_token=ADMIN) as b:
        yield b


async def test_admin_refuses_missing_and_wrong_tokens(bot: Bot) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN}"}):
        for method, path in (
            ("GET", "/admin/sessions"),
            ("GET", f"/admin/sessions/{ALICE}"),
            ("DELETE", f"/admin/sessions/{ALICE}"),
        ):
            response = await bot.client.request(method, path, headers=headers)
            assert response.status_code in (401, 403), (method, path, headers, response.status_code)


async def test_admin_disabled_without_a_token(redis_client: Redis) -> None:
    async with bot_with(redis_client) as bot:
        response = await bot.client.get("/admin/sessions", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 404


async def test_admin_views_counts_and_resets_a_session(bot: Bot, redis_client: Redis) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    await Person(bot, ALICE).say("hi")
    assert (await bot.client.get("/admin/sessions", headers=auth)).json() == {"live_sessions": 1}
    view = (await bot.client.get(f"/admin/sessions/{ALICE}", headers=auth)).json()
    state = view["state"]
    assert state["_metadata"]["version"] >= 1 and state["member"]["first_name"] == "Demo"
    assert state["auth"]["token"] == "**********"
    raw = orjson.loads(await redis_client.hget(channel_keys(ALICE).state, "core"))
    assert raw["auth"]["token"] and raw["auth"]["token"] not in str(view)
    assert 0 < view["ttl_seconds"] <= 300
    gone = await bot.client.delete(f"/admin/sessions/{ALICE}", headers=auth)
    assert gone.json() == {"channel_id": ALICE, "deleted": True}
    assert (await bot.client.get(f"/admin/sessions/{ALICE}", headers=auth)).status_code == 404
    assert (await bot.client.get("/admin/sessions/bad}{id", headers=auth)).status_code == 422


async def test_admin_is_documented_with_its_security_scheme(bot: Bot) -> None:
    spec = (await bot.client.get("/openapi.json")).json()
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert spec["paths"]["/admin/sessions/{channel_id}"]["get"]["security"] == [{"HTTPBearer": []}]


async def test_metrics_count_what_happened(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await alice.say("not a menu choice")
    text = (await bot.client.get("/metrics")).text
    assert 'messages_handled_total{type="text"} 2.0' in text
    assert 'webhook_requests_total{outcome="ok"} 2.0' in text
    assert 'credex_call_seconds_count{endpoint="login",outcome="200"} 1.0' in text
    assert 'validation_failures_total{component="MenuChoice"} 1.0' in text
    assert 'state_events_total{event="commit_conflicts"} 0.0' in text
    assert 'inbox_appended_total{kind="m"} 2.0' in text
    assert "inbox_pending 0.0" in text and "inbox_lag 0.0" in text
    assert 'outbound_sends_total{code="",result="ok"}' in text


async def test_ready_turns_503_when_redis_stops(redis_process: RedisProcess) -> None:
    async with running(make_bot_app(None, redis_url=redis_process.url)) as bot:
        assert (await bot.client.get("/ready")).status_code == 200
        redis_process.stop()
        down = await bot.client.get("/ready")
        assert down.status_code == 503 and down.json()["status"] == "unavailable"
        assert (await bot.client.get("/health")).status_code == 200
        redis_process.start()
        assert (await bot.client.get("/ready")).status_code == 200


async def test_no_secret_token_or_full_phone_reaches_the_logs(
    redis_client: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    async with bot_with(redis_client, admin_token=ADMIN) as bot:
        alice = Person(bot, ALICE)
        for text in ("hi", "ledger", "menu", "zzz", "hi"):
            await alice.say(text)
        await bot.client.get("/admin/sessions", headers={"Authorization": f"Bearer {ADMIN}"})
        await bot.client.get("/admin/sessions", headers={"Authorization": "Bearer wrong-guess-123456"})
        jwt = orjson.loads(await redis_client.hget(channel_keys(ALICE).state, "core"))["auth"]["token"]
    out = capsys.readouterr().out
    assert "message_handled" in out and "credex.call" in out  # the logs were captured
    for secret in (APP_SECRET, ADMIN, jwt, ALICE, "sandbox-client-key"):
        assert secret not in out, f"{secret[:6]}… leaked into the logs"
    assert "2637****0001" in out


def test_redaction_processor_strips_tokens_anywhere() -> None:
    event = {
        "event": "call",
        "headers": "Authorization: Bearer abc.def.ghi",
        "jwt_text": "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig here",
        "api_key": "k-123",
        "detail": "x-client-api-key=supersecretvalue next",
        "nested_ok": "plain words",
    }
    out = redact_secrets(None, "info", dict(event))
    assert "abc.def.ghi" not in str(out) and "eyJhbGci" not in str(out)
    assert out["api_key"] == "[REDACTED]" and "supersecretvalue" not in out["detail"]
    assert out["nested_ok"] == "plain words"


def test_access_token_never_logged_in_production_settings() -> None:
    s = settings(whatsapp_access_token=ACCESS)
    assert ACCESS not in repr(s) and ACCESS not in str(s.model_dump())


def test_uvicorn_access_lines_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from app.logs import configure_logging

    configure_logging(development=False)
    line = '127.0.0.1 - "GET /webhook?hub.mode=subscribe&hub.verify_token=abc123secret&hub.challenge=9 HTTP/1.1" 200'
    logging.getLogger("uvicorn.access").info(line)
    out = capsys.readouterr().out
    record = orjson.loads(out.strip().splitlines()[-1])
    assert "abc123secret" not in out and "hub.challenge=9" in record["event"]
    assert record["logger"] == "uvicorn.access"


def test_phone_masking_leaves_message_ids_alone() -> None:
    from app.logs import mask_phone_numbers

    event = {
        "event": "GET /dev/outbox/263770000001?after=2",
        "correlation_id": "wamid.SIMC19CC837B3A73AC19034123454363A84E4",
        "detail": "phone=263770000001, to 263771234567.",
    }
    out = mask_phone_numbers(None, "info", dict(event))
    assert out["event"] == "GET /dev/outbox/2637****0001?after=2"
    assert out["correlation_id"] == event["correlation_id"]
    assert out["detail"] == "phone=2637****0001, to 2637****4567."
