"""When credex-core is down, and when WhatsApp hides the person's number: one honest answer, never a loop."""

from __future__ import annotations

import json

import httpx
from redis.asyncio import Redis

from tests.credex_support import Wrapper
from tests.flows_kit import ALICE, Person, bot_with, text_of
from tests.webhook_kit import envelope


class Down(Wrapper):
    """credex-core refuses every connection."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        raise httpx.ConnectError("connection refused", request=request)


async def test_credex_down_costs_one_call_and_says_so(redis_client: Redis) -> None:
    transports: list[Down] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> Down:
        transports.append(Down(inner))
        return transports[-1]

    async with bot_with(redis_client, wrap=wrap) as bot:
        said = text_of(await Person(bot, ALICE).say("hi"))
        assert "credex is not answering" in said and "nothing was changed" in said
        assert "something went wrong" not in said.lower()
        assert transports[0].calls == 1  # one call, not a loop of them
        again = text_of(await Person(bot, ALICE).say("menu"))
        assert "credex is not answering" in again and transports[0].calls == 2


async def test_a_sender_without_a_visible_number_is_told_what_is_needed(redis_client: Redis) -> None:
    bsuid = "US.13491208655302741918"
    message = {"from_user_id": bsuid, "id": "wamid.bsuid.1", "timestamp": "1900000000", "type": "text"}
    message["text"] = {"body": "hi"}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Someone"}, "user_id": bsuid}],
        "messages": [message],
    }
    async with bot_with(redis_client) as bot:
        assert (await bot.post(json.dumps(envelope(value)).encode())).status_code == 200
        (answer,) = await bot.outbox(bsuid)
        assert "phone number" in answer["body"] and "something went wrong" not in answer["body"].lower()
        page = (await bot.client.get(f"/dev/outbox/{bsuid}")).json()
        request = page["items"][0]["request"]
        assert request.get("recipient") == bsuid and "to" not in request  # the Cloud API's form for a BSUID
