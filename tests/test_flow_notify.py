"""The recipient of an offer hears about it: the sandbox calls POST /notify as credex-core does, the template
carries a *View offers* button, and a tap on it opens the member's pending offers from wherever they are."""

from __future__ import annotations

import copy
import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import structlog

from app.credex.models import CreateCredexRequest, Denomination
from app.credex.sandbox_ledger import Credex, CredexStatus, Ledger
from app.credex.sandbox_notify import offer_notice
from app.credex.sandbox_offers import create_credex
from app.credex.sandbox_seed import DEMO_SEED, seed_ledger
from app.whatsapp.messages import OUTBOUND_MESSAGE
from app.whatsapp.templates import CREDEX_NOTIFICATION, VIEW_OFFERS_PAYLOAD
from tests.conftest import SHARED
from tests.flows_kit import ALICE, BOB, Person, bot_with, rows, sandbox, text_of
from tests.webhook_kit import Bot, new_id

QUICK_REPLY = json.loads((SHARED / "whatsapp" / "payloads" / "button_quick_reply_01.json").read_text())
STRANGER = "263771234567"


def quick_reply_tap(sender: str, payload: str = VIEW_OFFERS_PAYLOAD, text: str = "View offers") -> dict[str, Any]:
    """A template quick-reply tap, shaped as the real payload (shared/whatsapp/payloads), from `sender`."""
    message = copy.deepcopy(QUICK_REPLY["entry"][0]["changes"][0]["value"]["messages"][0])
    message.update(
        {
            "from": sender,
            "id": new_id(),
            "timestamp": str(int(time.time())),
            "button": {"payload": payload, "text": text},
        }
    )
    return message


async def tap_view_offers(person: Person, **kwargs: str) -> list[dict[str, Any]]:
    response = await person.bot.send(quick_reply_tap(person.phone, **kwargs))
    assert response.status_code == 200, response.text
    return await person.read()


async def alice_offers_bob(bot: Bot, amount: str = "12.50") -> list[dict[str, Any]]:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await alice.choose("offer_secured")
    await alice.say(amount)
    await alice.say(BOB)
    return await alice.tap("yes")


def offers_to_bob(bot: Bot) -> list[Credex]:
    ledger = sandbox(bot).ledger
    bob = ledger.account_by_handle(BOB).account_id
    return [c for c in ledger.credexes.values() if c.receiver_account_id == bob and c.status is CredexStatus.PENDING]


def templates(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["kind"] == "template"]


async def test_alices_offer_notifies_bob_and_his_tap_opens_it(bot: Bot) -> None:
    before = {c.credex_id for c in offers_to_bob(bot)}
    done = await alice_offers_bob(bot)
    assert "offer of 12.50 USD was sent to Demo Bob" in text_of(done)
    (made,) = [c for c in offers_to_bob(bot) if c.credex_id not in before]

    bob = Person(bot, BOB)
    (notice,) = templates(await bob.read())
    assert notice["name"] == CREDEX_NOTIFICATION.name and notice["quick_reply_payloads"] == [VIEW_OFFERS_PAYLOAD]
    name, message = notice["body_parameters"]
    assert name == "Demo Bob" and message.startswith("Demo Alice offered you 12.50 USD secured.")
    request = OUTBOUND_MESSAGE.validate_python(notice).to_payload(BOB)  # what the Cloud API would be sent
    assert request["to"] == BOB and request["template"]["components"][1] == {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": VIEW_OFFERS_PAYLOAD}],
    }

    opened = await tap_view_offers(bob)
    assert made.credex_id in rows(opened) and "waiting for your answer" in text_of(opened)
    assert "12.50 USD · Demo Alice" in text_of(opened)
    assert len(opened) <= 2


async def test_the_tap_works_mid_flow_and_says_what_was_left(bot: Bot) -> None:
    await alice_offers_bob(bot, "3")
    bob = Person(bot, BOB)
    await bob.say("hi")
    await bob.choose("offer_secured")
    asked = await bob.say("2")
    assert "account handle" in text_of(asked)
    opened = await tap_view_offers(bob)
    shown = text_of(opened)
    assert "Your offer of 2.00 USD was not sent." in shown and "waiting for your answer" in shown
    assert "3.00 USD · Demo Alice" in shown
    picked = await bob.choose(rows(opened)[0])  # and the list works as the menu's does: on to the confirmation
    assert "Accept this offer?" in text_of(picked)


async def test_a_tap_after_the_session_lapsed_logs_in_first(bot: Bot) -> None:
    """A notice comes hours later: no token in state, so the member is logged in before the list."""
    await alice_offers_bob(bot, "4")
    bob = Person(bot, BOB)
    opened = await tap_view_offers(bob)
    assert "4.00 USD · Demo Alice" in text_of(opened)


async def test_a_notice_sent_before_payloads_is_still_understood(bot: Bot) -> None:
    """Templates already delivered without a payload come back with the button's title as the payload."""
    await alice_offers_bob(bot, "5")
    bob = Person(bot, BOB)
    opened = await tap_view_offers(bob, payload="View offers")
    assert "5.00 USD · Demo Alice" in text_of(opened)


async def test_a_tap_by_someone_who_is_not_a_member_is_answered_plainly(bot: Bot) -> None:
    stranger = Person(bot, STRANGER)
    answer = await tap_view_offers(stranger)
    shown = text_of(answer)
    assert "this number is not a member yet" in shown and "Become a member" in shown
    assert "callback_data" not in shown and VIEW_OFFERS_PAYLOAD not in shown


async def test_a_notify_failure_does_not_fail_alices_offer(bot: Bot) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("the bot is not answering", request=request)

    bot.app.state.sandbox_notifier.transport = httpx.MockTransport(refuse)
    before = len(offers_to_bob(bot))
    with structlog.testing.capture_logs() as logs:
        done = await alice_offers_bob(bot, "6")
    assert "offer of 6.00 USD was sent to Demo Bob" in text_of(done)
    assert len(offers_to_bob(bot)) == before + 1
    assert templates(await Person(bot, BOB).read()) == []
    failed = [e for e in logs if e["event"] == "sandbox_notify_failed"]
    assert failed == [{"event": "sandbox_notify_failed", "error": "ConnectError", "log_level": "warning"}]
    assert not any("exc_info" in e or e["log_level"] == "error" for e in logs)


async def test_a_refused_notice_is_logged_and_the_offer_stands(redis_client: Any) -> None:
    """A wrong key (credex-core and the bot configured apart): /notify answers 401, the offer is made anyway."""
    async with bot_with(redis_client) as bot:
        bot.app.state.sandbox_notifier.api_key = "not-the-key"
        with structlog.testing.capture_logs() as logs:
            done = await alice_offers_bob(bot, "7")
        assert "offer of 7.00 USD was sent to Demo Bob" in text_of(done)
        assert templates(await Person(bot, BOB).read()) == []
        assert {"event": "sandbox_notify_refused", "status": 401, "log_level": "warning"} in logs


async def test_bob_who_wrote_stop_is_not_notified(bot: Bot) -> None:
    bob = Person(bot, BOB)
    await bob.say("stop")
    await alice_offers_bob(bot, "8")
    assert templates(await bob.read()) == []


def _seeded() -> Ledger:
    ledger = Ledger()
    seed_ledger(ledger, DEMO_SEED)
    return ledger


def test_the_notice_names_the_issuer_the_terms_and_who_receives() -> None:
    ledger = _seeded()
    shop, chipo = ledger.account_by_handle("alices_shop"), ledger.account_by_handle("263770000003")
    alice = ledger.member_by_phone(ALICE)
    due = ledger.today() + timedelta(days=14)
    request = CreateCredexRequest(
        issuerAccountID=shop.account_id,
        receiverAccountID=chipo.account_id,
        Denomination=Denomination.USD,
        InitialAmount=Decimal("30"),
        securedCredex=False,
        dueDate=due,
    )
    notice = offer_notice(ledger, create_credex(ledger, alice, request))
    assert notice is not None and notice.phone == "263770000003" and notice.member_name == "Demo Chipo"
    assert (
        notice.message
        == f"Alice's Shop offered you 30.00 USD unsecured, due {due.day} {due:%b}. Tap View offers to answer."
    )

    own = CreateCredexRequest(
        issuerAccountID=ledger.account_by_handle(ALICE).account_id,
        receiverAccountID=shop.account_id,
        Denomination=Denomination.USD,
        InitialAmount=Decimal("1"),
        securedCredex=True,
    )
    assert offer_notice(ledger, create_credex(ledger, alice, own)) is None  # between her own accounts: no one to tell
