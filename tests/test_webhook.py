"""The webhook end to end: handshake, signatures, payloads, batches, duplicates, store outages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from app.config import Settings
from app.flows.engine import APOLOGY, UNDERSTOOD
from app.state.keys import channel_keys
from app.state.manager import StateManager
from app.whatsapp.inbound import InboundMessage
from tests.conftest import SHARED, RedisProcess
from tests.webhook_kit import (
    VERIFY_TOKEN,
    Bot,
    body_of,
    envelope,
    make_app,
    running,
    settings,
    signed,
    text_message,
    value,
)

ALICE, BOB = "263771111111", "263772222222"
PAYLOADS = sorted((SHARED / "whatsapp" / "payloads").glob("*.json"))


@pytest.fixture
async def bot(redis_client: Redis) -> AsyncIterator[Bot]:
    async with running(make_app(redis=redis_client)) as b:
        yield b


async def count(redis: Redis, channel: str) -> int:
    flow = await redis.hget(channel_keys(channel).state, "flow")
    return int(orjson.loads(flow)["data"].get("count", 0)) if flow else 0


# -- handshake ----------------------------------------------------------------------------------------------


async def test_verification_handshake(bot: Bot) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    ok = await bot.client.get("/webhook", params=params)
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    for bad in ({"hub.verify_token": "wrong"}, {"hub.mode": "unsubscribe"}, {"hub.verify_token": ""}):
        response = await bot.client.get("/webhook", params={**params, **bad})
        assert response.status_code == 403 and "1158201444" not in response.text
    assert (await bot.client.get("/webhook")).status_code == 403


# -- signature ----------------------------------------------------------------------------------------------


async def test_signature_correct_wrong_missing(bot: Bot, redis_client: Redis) -> None:
    body = body_of(text_message(ALICE, "hello"))
    missing = await bot.post(body, headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    wrong = await bot.post(body, headers=signed(body, secret="not-the-secret"))
    assert wrong.status_code == 403
    tampered = await bot.post(body.replace(b"hello", b"HELLO"), headers=signed(body))
    assert tampered.status_code == 403
    assert await bot.outbox(ALICE) == [] and await count(redis_client, ALICE) == 0
    ok = await bot.post(body)
    assert ok.status_code == 200 and ok.json()["messages"] == 1
    assert await bot.texts(ALICE) == ["#1: hello"]


async def test_signature_over_raw_bytes_with_escapes(bot: Bot) -> None:
    """Meta escapes unicode and slashes; re-serialised JSON would not match the signature."""
    payload = envelope(value(text_message(ALICE, "PLACEHOLDER")))
    raw = json.dumps(payload).replace("PLACEHOLDER", "K\\u00e4se 1\\/2").encode()
    assert b"\\u00e4" in raw and b"\\/" in raw
    assert json.dumps(json.loads(raw)).encode() != raw
    response = await bot.post(raw)
    assert response.status_code == 200
    assert await bot.texts(ALICE) == ["#1: Käse 1/2"]


async def test_oversized_and_invalid_bodies(redis_client: Redis) -> None:
    async with running(make_app(redis=redis_client, settings=settings(webhook_max_bytes=2048))) as bot:
        big = body_of(text_message(ALICE, "x" * 4000))
        assert (await bot.post(big)).status_code == 413
        for junk in (b"{not json", b'{"object": "page", "entry": []}', b"[]"):
            response = await bot.post(junk)
            assert response.status_code == 200 and response.json()["status"] == "ignored"
        assert await bot.outbox(ALICE) == []


# -- every real payload --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAYLOADS, ids=[p.stem for p in PAYLOADS])
async def test_every_shared_payload(path: Path, bot: Bot, redis_client: Redis) -> None:
    raw = path.read_bytes()
    data = json.loads(raw)
    change_value = data["entry"][0]["changes"][0]["value"]
    response = await bot.post(raw)
    assert response.status_code == 200, response.text
    ack = response.json()
    assert ack["messages"] == len(change_value.get("messages", []))
    assert ack["statuses"] == len(change_value.get("statuses", []))
    for message in change_value.get("messages", []):
        channel = message.get("from") or message.get("from_user_id")
        replies = await bot.texts(channel)
        kind = message["type"]
        if kind in ("system", "reaction"):  # Meta's notices and reactions (added or removed) get no reply
            assert replies == []
        elif kind == "text":
            assert replies == [f"#1: {message['text']['body']}"]
        elif kind == "interactive" and "interactive" in message:
            inner = message["interactive"]
            reply = inner.get("button_reply") or inner.get("list_reply")
            expected = reply["id"] if reply else json.loads(inner["nfm_reply"]["response_json"])["flow_token"]
            assert replies == [f"#1: {expected}"]
        elif kind == "button":
            assert replies == [f"#1: {message['button']['payload']}"]
        else:  # media, location, unsupported, interactive without content
            assert replies == [UNDERSTOOD]
        assert await redis_client.zscore(channel_keys(channel).seen, message["id"]) is not None
    for status in change_value.get("statuses", []):
        records = bot.app.state.records
        assert not await records.mark_status(status["recipient_id"], status["id"], status["status"])
    again = await bot.post(raw)  # Meta's retry of the same delivery: no new effect
    assert again.status_code == 200
    for message in change_value.get("messages", []):
        channel = message.get("from") or message.get("from_user_id")
        assert len(await bot.outbox(channel)) <= 1


def test_shared_payloads_are_present() -> None:
    assert len(PAYLOADS) >= 20, f"no payloads under {SHARED}"


# -- batches, order, duplicates ------------------------------------------------------------------------------


async def test_batch_of_entries_and_changes_keeps_order_per_person(bot: Bot, redis_client: Redis) -> None:
    alice = [text_message(ALICE, f"a{n}") for n in range(6)]
    bob = [text_message(BOB, f"b{n}") for n in range(6)]
    values = [value(alice[0], bob[0], alice[1]), value(bob[1], bob[2]), value(alice[2], alice[3], bob[3])]
    values += [value(alice[4], bob[4]), value(alice[5], bob[5])]
    payload = envelope(*values, entries=2)
    in_payload_order = [m for e in payload["entry"] for c in e["changes"] for m in c["value"]["messages"]]
    body = json.dumps(payload).encode()
    response = await bot.post(body)
    assert response.status_code == 200 and response.json()["messages"] == 12
    for person in (ALICE, BOB):
        sent = [m["text"]["body"] for m in in_payload_order if m["from"] == person]
        assert await bot.texts(person) == [f"#{n + 1}: {text}" for n, text in enumerate(sent)]
    assert await count(redis_client, ALICE) == 6 and await count(redis_client, BOB) == 6


async def test_same_delivery_five_times_sequentially(bot: Bot, redis_client: Redis) -> None:
    body = body_of(text_message(ALICE, "pay"))
    for _ in range(5):
        assert (await bot.post(body)).status_code == 200
    assert await bot.texts(ALICE) == ["#1: pay"]
    assert await count(redis_client, ALICE) == 1


async def test_same_delivery_five_times_concurrently(bot: Bot, redis_client: Redis) -> None:
    body = body_of(text_message(ALICE, "pay"))
    responses = await asyncio.gather(*(bot.post(body) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert await bot.texts(ALICE) == ["#1: pay"]
    assert await count(redis_client, ALICE) == 1


async def test_concurrent_deliveries_across_two_app_instances(redis_client: Redis) -> None:
    """Two workers (two apps on one store): the duplicate is caught by Redis, not by a process-local lock."""
    async with running(make_app(redis=redis_client)) as one, running(make_app(redis=redis_client)) as two:
        body = body_of(text_message(ALICE, "pay"))
        responses = await asyncio.gather(*(bot.post(body) for bot in (one, two, one, two, one)))
        assert all(r.status_code == 200 for r in responses)
        assert await one.texts(ALICE) == ["#1: pay"]
        assert await count(redis_client, ALICE) == 1


# -- failures ------------------------------------------------------------------------------------------------


class Exploding:
    async def run(self, message: InboundMessage, state: StateManager) -> None:
        state.update_state({"flow_data": {"context": "offer", "component": "amount", "data": {"half": "done"}}})
        raise RuntimeError("bug in a step")


async def test_a_raising_flow_apologises_records_and_acknowledges(redis_client: Redis) -> None:
    async with running(make_app(redis=redis_client, runner=Exploding())) as bot:
        response = await bot.say(ALICE, "hello")
        assert response.status_code == 200
        assert await bot.texts(ALICE) == [APOLOGY]
        core = orjson.loads(await redis_client.hget(channel_keys(ALICE).state, "core"))
        assert "FLOW_STEP_ERROR" in core["_validation"]["error"]
        flow = orjson.loads(await redis_client.hget(channel_keys(ALICE).state, "flow"))
        assert flow["data"] == {}  # the half-done step was rolled back
        metric = bot.app.state.metrics.registry.get_sample_value("flow_errors_total", {"context": "offer"})
        assert metric == 1.0


async def test_redis_down_gives_503_and_the_retry_is_handled_once(redis_process: RedisProcess) -> None:
    app = make_app(settings=settings(redis_url=redis_process.url))
    async with running(app) as bot:
        body = body_of(text_message(ALICE, "pay"))
        redis_process.stop()
        down = await bot.post(body)
        assert down.status_code == 503
        redis_process.start()
        assert (await bot.post(body)).status_code == 200
        assert (await bot.post(body)).status_code == 200
        assert await bot.texts(ALICE) == ["#1: pay"]


async def test_failed_status_is_recorded_and_counted(bot: Bot) -> None:
    raw = (SHARED / "whatsapp" / "payloads" / "status_failed_01.json").read_bytes()
    await bot.post(raw)
    await bot.post(raw)
    code = json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"]
    registry = bot.app.state.metrics.registry
    assert registry.get_sample_value("status_failures_total", {"code": str(code)}) == 1.0
    assert registry.get_sample_value("duplicates_dropped_total") == 1.0


# -- contract and configuration ------------------------------------------------------------------------------


async def test_openapi_documents_both_webhook_routes(bot: Bot) -> None:
    spec = (await bot.client.get("/openapi.json")).json()
    routes = spec["paths"]["/webhook"]
    assert {"get", "post"} <= set(routes)
    params = {p["name"] for p in routes["get"]["parameters"]}
    assert {"hub.mode", "hub.verify_token", "hub.challenge"} <= params
    body_schema = routes["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "entry" in json.dumps(spec["components"]["schemas"].get("WebhookPayload", body_schema))
    assert {"200", "401", "403", "413", "503"} <= set(routes["post"]["responses"])


def test_production_refuses_to_start_without_app_secret() -> None:
    with pytest.raises(ValidationError, match="WHATSAPP_APP_SECRET"):
        Settings(app_env="production", whatsapp_app_secret=None, credex_api_url="http://credex.invalid")


async def test_dev_outbox_is_not_mounted_in_production(redis_client: Redis) -> None:
    prod = settings(app_env="production", credex_api_url="http://credex.invalid", credex_client_api_key="k" * 16)
    async with running(make_app(redis=redis_client, settings=prod)) as bot:
        assert (await bot.client.get(f"/dev/outbox/{ALICE}")).status_code == 404


class StealsTheLease:
    """A step whose channel is taken over before its side effect, as after a lease expiry."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.side_effects = 0
        self.stolen = False

    async def run(self, message: InboundMessage, state: StateManager) -> None:
        if message.input_text == "steal" and not self.stolen:
            self.stolen = True
            await self.redis.set(channel_keys(state.get_channel_id()).lease, "other-worker", px=50)
        await asyncio.sleep(0.002)  # past the renewal margin below: hold_lease asks Redis
        await state.hold_lease()
        self.side_effects += 1


async def test_a_step_whose_lease_was_taken_over_does_nothing_and_is_retried(redis_client: Redis) -> None:
    runner = StealsTheLease(redis_client)
    always_renew = settings(state_lease_renew_margin_ms=29_999)
    async with running(make_app(redis=redis_client, runner=runner, settings=always_renew)) as bot:
        body = body_of(text_message(ALICE, "steal"))
        assert (await bot.post(body)).status_code == 200  # accepted: the inbox holds it whatever happens next
        # The first try loses its lease before the side effect and does nothing; the worker retries once the
        # other worker's lease ran out, and that try does the work, once.
        assert runner.side_effects == 1
        assert await redis_client.hget(channel_keys(ALICE).state, "v") == b"1"  # committed once


async def test_a_full_batch_of_1000_messages_for_1000_people(bot: Bot, redis_client: Redis) -> None:
    """Meta batches up to 1000 updates: every one is handled and answered, none fails for want of a connection."""
    people = [f"2637{n:08d}" for n in range(1000)]
    payload = envelope(*[value(text_message(p, f"m{n}")) for n, p in enumerate(people)], entries=10)
    response = await bot.post(json.dumps(payload).encode())
    assert response.status_code == 200 and response.json()["messages"] == 1000
    for n in (0, 1, 499, 998, 999):
        assert await bot.texts(people[n]) == [f"#1: m{n}"]
    counts = await asyncio.gather(*(count(redis_client, p) for p in people))
    assert counts == [1] * 1000
