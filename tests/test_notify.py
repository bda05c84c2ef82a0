"""POST /notify: credex-core's notifications become a WhatsApp template in the member's outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from app.api.notify import TEMPLATE_NAME
from app.credex.wiring import SANDBOX_KEY
from app.whatsapp.messages import TEMPLATE_BODY_MAX
from app.whatsapp.templates import CREDEX_NOTIFICATION, VIEW_OFFERS_PAYLOAD
from tests.flows_kit import ALICE, bot_with
from tests.webhook_kit import Bot

GOOD = {"phoneNumber": ALICE, "memberName": "Demo Alice", "message": "You have a new offer of 25.00 USD."}
KEY = {"x-client-api-key": SANDBOX_KEY}


@pytest.fixture
async def bot(redis_client: Redis) -> AsyncIterator[Bot]:
    async with bot_with(redis_client) as b:
        yield b


async def test_right_key_sends_the_template_to_that_phone(bot: Bot) -> None:
    response = await bot.client.post("/notify", json=GOOD, headers=KEY)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "template": TEMPLATE_NAME, "recipient": "2637****0001"}
    (sent,) = await bot.outbox(ALICE)
    assert sent == {
        "kind": "template",
        "name": TEMPLATE_NAME,
        "language": "en",
        "body_parameters": ["Demo Alice", "You have a new offer of 25.00 USD."],
        "quick_reply_payloads": [VIEW_OFFERS_PAYLOAD],
    }
    assert await bot.outbox("263770000002") == []


async def test_multiline_text_becomes_valid_template_parameters(bot: Bot) -> None:
    body = {"phone": "+263 77 000 0001", "member_name": " Demo\tAlice ", "message": "Line one\n\nline     two"}
    response = await bot.client.post("/notify", json=body, headers=KEY)
    assert response.status_code == 202, response.text
    (sent,) = await bot.outbox(ALICE)
    assert sent["body_parameters"] == ["Demo Alice", "Line one line two"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-client-api-key": ""}, {"x-client-api-key": "wrong-key"}, {"x-client-api-key": SANDBOX_KEY + "x"}],
    ids=["missing", "empty", "wrong", "longer"],
)
async def test_missing_or_wrong_key_is_refused(bot: Bot, headers: dict[str, str]) -> None:
    response = await bot.client.post("/notify", json=GOOD, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid or missing x-client-api-key"}
    assert await bot.outbox(ALICE) == []


async def test_the_key_is_checked_before_the_body(bot: Bot) -> None:
    response = await bot.client.post("/notify", json={"phoneNumber": "x"}, headers={"x-client-api-key": "nope"})
    assert response.status_code == 401


async def test_a_configured_key_replaces_the_sandbox_key(redis_client: Redis) -> None:
    async with bot_with(redis_client, credex_client_api_key="configured-key-123") as bot:
        refused = await bot.client.post("/notify", json=GOOD, headers=KEY)
        assert refused.status_code == 401
        accepted = await bot.client.post("/notify", json=GOOD, headers={"x-client-api-key": "configured-key-123"})
        assert accepted.status_code == 202
        assert len(await bot.outbox(ALICE)) == 1


BAD_BODIES: list[tuple[str, Any]] = [
    ("phone too short", {**GOOD, "phoneNumber": "2637700"}),
    ("phone too long", {**GOOD, "phoneNumber": "2637700000012345"}),
    ("phone with letters", {**GOOD, "phoneNumber": "26377000000a"}),
    ("phone as a number", {**GOOD, "phoneNumber": 263770000001}),
    ("no phone", {k: v for k, v in GOOD.items() if k != "phoneNumber"}),
    ("empty name", {**GOOD, "memberName": ""}),
    ("blank name", {**GOOD, "memberName": "   "}),
    ("name too long", {**GOOD, "memberName": "A" * 101}),
    ("no name", {k: v for k, v in GOOD.items() if k != "memberName"}),
    ("empty message", {**GOOD, "message": ""}),
    ("blank message", {**GOOD, "message": "\n\t "}),
    ("message too long", {**GOOD, "message": "m" * 901}),
    ("message not text", {**GOOD, "message": ["hi"]}),
    ("not an object", [GOOD]),
]


@pytest.mark.parametrize(("why", "body"), BAD_BODIES, ids=[why for why, _ in BAD_BODIES])
async def test_bad_bodies_are_refused(bot: Bot, why: str, body: Any) -> None:
    response = await bot.client.post("/notify", json=body, headers=KEY)
    assert response.status_code == 422, why
    assert await bot.outbox(ALICE) == []


async def test_not_json_is_refused(bot: Bot) -> None:
    headers = {**KEY, "content-type": "application/json"}
    response = await bot.client.post("/notify", content=b"{not json", headers=headers)
    assert response.status_code == 422


async def test_a_body_that_is_not_utf8_is_refused_as_documented(bot: Bot) -> None:
    """Found by the fuzz test: FastAPI answers 400 (not 422) for bytes that are not UTF-8; it is documented."""
    headers = {**KEY, "content-type": "application/json"}
    response = await bot.client.post("/notify", content=b"\xff\xfe{", headers=headers)
    assert response.status_code == 400 and response.json() == {"detail": "There was an error parsing the body"}
    spec = (await bot.client.get("/openapi.json")).json()
    assert "400" in spec["paths"]["/notify"]["post"]["responses"]
    assert await bot.outbox(ALICE) == []


async def test_limits_are_inclusive(bot: Bot) -> None:
    body = {"phoneNumber": "12345678", "memberName": "N" * 100, "message": "m" * 900}
    response = await bot.client.post("/notify", json=body, headers=KEY)
    assert response.status_code == 202, response.text
    (sent,) = await bot.outbox("12345678")
    name, message = sent["body_parameters"]
    assert name == "N" * 100  # both at their limits pass the body's 1,024 characters: the message is shortened
    assert message == "m" * (len(message) - 1) + "…"
    assert len(CREDEX_NOTIFICATION.render(sent["body_parameters"])) == TEMPLATE_BODY_MAX


async def test_openapi_describes_notify(bot: Bot) -> None:
    spec = (await bot.client.get("/openapi.json")).json()
    operation = spec["paths"]["/notify"]["post"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref == "#/components/schemas/NotifyRequest"
    request = spec["components"]["schemas"]["NotifyRequest"]
    assert set(request["required"]) == {"phoneNumber", "memberName", "message"}
    assert request["properties"]["message"]["maxLength"] == 900
    assert operation["security"] == [{"CredexClientApiKey": []}]
    scheme = spec["components"]["securitySchemes"]["CredexClientApiKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "x-client-api-key"}
    assert {"202", "401", "422"} <= set(operation["responses"])
    accepted = operation["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
    assert accepted == "#/components/schemas/NotifyAccepted"


async def test_notify_is_rate_limited_per_recipient(bot: Bot) -> None:
    for _ in range(5):
        assert (await bot.client.post("/notify", json=GOOD, headers=KEY)).status_code == 202
    refused = await bot.client.post("/notify", json=GOOD, headers=KEY)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    other = {**GOOD, "phoneNumber": "263770000002"}
    assert (await bot.client.post("/notify", json=other, headers=KEY)).status_code == 202
    assert len(await bot.outbox(ALICE)) == 5  # the refused one was never queued
