"""People whose number WhatsApp hides (a username: no `wa_id`, a business-scoped user id only), through the real
webhook: asked for their number the Cloud API way (`request_contact_info`), then logged in with it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from redis.asyncio import Redis

from app.components.own_phone import ASK, NOT_A_NUMBER, ONLY_SHARED
from app.flows.runner import CREDEX_DOWN
from app.state.keys import channel_keys
from app.whatsapp.messages import OUTBOUND_MESSAGE
from tests.flows_kit import ALICE, CHIPO, bot_with, rows, sandbox, text_of
from tests.webhook_kit import Bot, new_id

BSUID = "ZW.13491208655302741918"
OTHER_BSUID = "ZW.99991208655302741918"
STRANGER = "263771234567"


def _post_body(sender: str, message: dict[str, Any]) -> bytes:
    """A webhook as Meta sends it for a person with a username: no `from`, no `wa_id`."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Someone", "username": "@someone"}, "user_id": sender}],
        "messages": [{"from_user_id": sender, "id": new_id(), "timestamp": str(int(time.time())), **message}],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "w", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(envelope).encode()


def shared_card(phone: str, origin: str = "contact_request") -> dict[str, Any]:
    """What WhatsApp sends when the person taps *Share phone number* (origin `contact_request`), or shares any
    contact card (origin `other`)."""
    card = {"origin": origin, "phones": [{"phone": f"+{phone}", "wa_id": phone, "type": "CELL"}]}
    return {"type": "contacts", "contacts": [card]}


class Hidden:
    """A person known to the bot only by their BSUID."""

    def __init__(self, bot: Bot, bsuid: str = BSUID) -> None:
        self.bot, self.id, self.seen = bot, bsuid, 0

    async def send(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.bot.post(_post_body(self.id, message))
        assert response.status_code == 200, response.text
        got = await self.bot.client.get(f"/dev/outbox/{self.id}", params={"after": self.seen})
        items = got.json()["items"]
        if items:
            self.seen = items[-1]["seq"]
        messages = [item["message"] for item in items]
        for m in messages:
            OUTBOUND_MESSAGE.validate_python(m)
            assert m["kind"] != "request_contact_info" or "recipient" in OUTBOUND_MESSAGE.validate_python(m).to_payload(
                self.id
            )
        return messages

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send({"type": "text", "text": {"body": text}})

    async def share(self, phone: str, origin: str = "contact_request") -> list[dict[str, Any]]:
        return await self.send(shared_card(phone, origin))


def asked_for_number(messages: list[dict[str, Any]]) -> bool:
    return any(m["kind"] == "request_contact_info" and ASK in m["body"] for m in messages)


def bodies(messages: list[dict[str, Any]]) -> str:
    return text_of(messages)


@pytest.fixture
async def prod_like(redis_client: Redis) -> AsyncIterator[Bot]:
    """The development service, but trusting only shared numbers as production does."""
    async with bot_with(redis_client) as bot:
        bot.app.state.engine.runner.typed_phone = False
        yield bot


async def test_a_hidden_number_is_asked_for_then_logs_in_as_that_member(bot: Bot) -> None:
    person = Hidden(bot)
    with structlog.testing.capture_logs() as logs:
        asked = await person.say("hi")
        assert asked_for_number(asked) and len(asked) == 1
        assert sandbox(bot).requests["/login"] == 0  # nothing to log in with yet: credex-core is not called

        wrong = await person.say("my number")
        assert NOT_A_NUMBER in bodies(wrong) and asked_for_number(wrong)
        short = await person.say("077 000")
        assert NOT_A_NUMBER in bodies(short)

        welcome = await person.say("+263 77 000 0001")
        shown = bodies(welcome)
        assert "I will use *+263 77 000 0001* for your credex account" in shown
        assert "Secured balances" in shown and "offer_secured" in rows(welcome) and len(welcome) <= 2

        again = await person.say("hi")  # from now on that number is who they are
        assert "Secured balances" in bodies(again) and not asked_for_number(again)
    state = json.loads(await bot.app.state.redis.hget(channel_keys(BSUID).state, "core"))
    assert state["channel"] == {"type": "whatsapp", "identifier": BSUID, "phone": ALICE}
    assert state["member"]["first_name"] == "Demo" and state["member"]["last_name"] == "Alice"
    flat = json.dumps(logs, default=str)
    assert ALICE not in flat and "770000001" not in flat
    assert not any("exc_info" in e or e["log_level"] in ("error", "critical") for e in logs)


async def test_the_shared_number_is_the_one_taken_and_it_outlives_the_session(bot: Bot) -> None:
    person = Hidden(bot)
    await person.say("hi")
    answer = await person.share(CHIPO)
    assert "+263 77 000 0003" in bodies(answer) and "Secured balances" in bodies(answer)
    # the state lapses (5 minutes of quiet); the number shared is kept beside it
    await bot.app.state.redis.delete(channel_keys(BSUID).state)
    later = await person.say("hi")
    assert not asked_for_number(later) and "Secured balances" in bodies(later)


async def test_a_stranger_with_a_hidden_number_can_join_with_it(bot: Bot) -> None:
    person = Hidden(bot, OTHER_BSUID)
    await person.say("hello")
    welcome = await person.share(STRANGER)
    assert "Become a member" in bodies(welcome)
    await person.say("join")
    await person.say("Tariro")
    confirm = await person.say("Moyo")
    assert "You will be registered as *Tariro Moyo*" in bodies(confirm)
    yes = next(b["id"] for m in confirm for b in m.get("buttons", []) if b["id"].startswith("yes:"))
    done = await person.send(
        {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": yes, "title": "Yes"}}}
    )
    assert "Welcome, Tariro" in bodies(done)
    assert sandbox(bot).ledger.member_by_phone(STRANGER).firstname == "Tariro"


async def test_help_and_cancel_while_asked(bot: Bot) -> None:
    person = Hidden(bot)
    await person.say("hi")
    helped = await person.say("help")
    assert "Share phone number" in bodies(helped)
    cancelled = await person.say("cancel")
    assert "Sorry" not in bodies(cancelled)


async def test_in_production_only_the_shared_number_is_trusted(prod_like: Bot) -> None:
    person = Hidden(prod_like)
    asked = await person.say("hi")
    assert asked_for_number(asked) and "Or type it" not in bodies(asked)
    typed = await person.say("+263 77 000 0001")  # anyone could type Alice's number
    assert ONLY_SHARED in bodies(typed) and "Secured balances" not in bodies(typed)
    card = await person.share(ALICE, origin="other")  # or share her contact card
    assert ONLY_SHARED in bodies(card) and sandbox(prod_like).requests["/login"] == 0
    own = await person.share(ALICE)
    assert "Secured balances" in bodies(own)


async def test_credex_core_down_one_call_then_a_clear_message(bot: Bot) -> None:
    person = Hidden(bot)
    await person.say("hi")
    box = sandbox(bot)
    box.inject_failure("/login", 503, times=50)
    with structlog.testing.capture_logs() as logs:
        down = await person.share(ALICE)
    assert box.requests["/login"] == 1
    assert CREDEX_DOWN in bodies(down) and "Sorry, something went wrong" not in bodies(down)
    again = await person.say("hi")  # still down: the number is remembered, one call, the same answer
    assert box.requests["/login"] == 2 and CREDEX_DOWN in bodies(again) and not asked_for_number(again)
    assert not any("exc_info" in e for e in logs)


async def test_a_number_change_forgets_the_shared_number(bot: Bot) -> None:
    """Meta mints a new id on a number change (the identity move keeps the conversation): the number shared
    under the old id is the old number, so it is not carried over and the person is asked again."""
    person = Hidden(bot)
    await person.say("hi")
    await person.share(ALICE)
    system = {"body": "User changed number", "user_id": OTHER_BSUID, "type": "user_changed_number"}
    await person.send({"type": "system", "system": system})
    moved = json.loads(await bot.app.state.redis.hget(channel_keys(OTHER_BSUID).state, "core"))
    assert moved["channel"] == {"type": "whatsapp", "identifier": OTHER_BSUID}
    assert moved["member"]["last_name"] == "Alice"  # the rest of the state moved as before
    asked = await Hidden(bot, OTHER_BSUID).say("hi")
    assert asked_for_number(asked)
