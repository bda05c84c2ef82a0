"""Offering credex (secured, unsecured, shortcuts) through the real webhook, checked against the sandbox ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app.components.offers import CANCELLED
from app.credex.sandbox_ledger import Credex, CredexStatus
from app.flows.registry import REGISTRY
from tests.flows_kit import ALICE, BOB, Person, bot_with, buttons, rows, sandbox, text_of
from tests.webhook_kit import Bot, reply_message

CREATE = "/createCredex"


def today() -> date:
    return datetime.now(UTC).date()


def offers(bot: Bot, issuer: str, receiver: str) -> list[Credex]:
    """Offers between two handles' accounts, oldest first."""
    ledger = sandbox(bot).ledger
    src, dst = ledger.account_by_handle(issuer).account_id, ledger.account_by_handle(receiver).account_id
    found = [c for c in ledger.credexes.values() if c.issuer_account_id == src and c.receiver_account_id == dst]
    return sorted(found, key=lambda c: c.seq)


def creates(bot: Bot) -> int:
    return int(sandbox(bot).requests[CREATE])


async def at_menu(bot: Bot, phone: str = ALICE) -> Person:
    person = Person(bot, phone)
    answer = await person.say("hi")
    assert "offer_secured" in rows(answer)
    return person


async def to_confirm(person: Person, row: str, amount: str, handle: str = BOB) -> list[dict[str, Any]]:
    await person.choose(row)
    answer = await person.say(amount)
    assert "account handle" in text_of(answer)
    return await person.say(handle)


def assert_menu(answer: list[dict[str, Any]]) -> None:
    assert "Secured balances" in text_of(answer) and answer[-1]["kind"] == "list"


# -- secured --------------------------------------------------------------------------------------------


async def test_secured_offer_alice_to_bob_is_pending_with_the_exact_amount(bot: Bot) -> None:
    before = len(offers(bot, ALICE, BOB))
    alice = await at_menu(bot)
    asked = await alice.choose("offer_secured")
    assert "*secured* credex" in text_of(asked) and "Your secured balance: 488.00 USD" in text_of(asked)
    for wrong, why in (("abc", "could not read"), ("-5", "more than zero")):
        again = await alice.say(wrong)
        assert why in text_of(again) and "How much" in text_of(again)
    asked = await alice.say("12.5")
    assert "account handle" in text_of(asked)
    for wrong, why in (("ab", "3 to 30 characters"), ("bob smith!", "letters, digits and underscores")):
        again = await alice.say(wrong)
        assert why in text_of(again) and "account handle" in text_of(again)
    confirm = await alice.say(f" @{BOB} ")
    shown = text_of(confirm)
    assert "12.50 USD" in shown and "Demo Alice Personal" in shown and "Demo Bob Personal" in shown
    assert buttons(confirm) == ["yes", "no"] and "Sign and send" in shown and "Due" not in shown
    done = await alice.tap("yes")
    assert "offer of 12.50 USD was sent to Demo Bob Personal" in text_of(done)
    assert_menu(done)
    made = offers(bot, ALICE, BOB)
    assert len(made) == before + 1 and creates(bot) == 1
    offer = made[-1]
    assert offer.status is CredexStatus.PENDING and offer.secured and offer.due_date is None
    assert isinstance(offer.amount, Decimal) and offer.amount == Decimal("12.5") and offer.denomination == "USD"


@pytest.mark.parametrize(
    ("wrong", "why"),
    [
        ("1e3", "plain digits"),
        ("inf", "plain digits"),
        ("NaN", "plain digits"),
        ("12.345", "at most 2 decimal places"),
        ("XAU 1.23456", "at most 4 decimal places"),
        ("0", "more than zero"),
        ("2000000", "maximum"),
        ("five", "could not read"),
    ],
)
async def test_wrong_amounts_are_refused_with_a_reason(bot: Bot, wrong: str, why: str) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    again = await alice.say(wrong)
    assert why in text_of(again) and "How much" in text_of(again)
    assert creates(bot) == 0


async def test_three_wrong_amounts_lead_back_to_the_menu(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("abc")
    await alice.say("-5")
    answer = await alice.say("1e3")
    assert "didn't work 3 times" in text_of(answer)
    assert_menu(answer)


async def test_amount_with_denomination_before_or_after(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    assert "Give the denomination once" in text_of(await alice.say("USD 5 USD"))
    await alice.say("ZWG 7.25")
    confirm = await alice.say(BOB)
    assert "7.25 ZWG" in text_of(confirm)
    await alice.tap("yes")
    offer = offers(bot, ALICE, BOB)[-1]
    assert (offer.amount, offer.denomination) == (Decimal("7.25"), "ZWG")


# -- unsecured ------------------------------------------------------------------------------------------


async def test_unsecured_offer_with_the_default_due_date(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    await alice.say("5.5 ZWG")
    asked = await alice.say(BOB)
    default = (today() + timedelta(weeks=4)).isoformat()
    assert buttons(asked) == ["default"] and "Default (4 weeks)" in text_of(asked) and default in text_of(asked)
    for wrong, why in (
        ("24/12/2030", "YYYY-MM-DD"),
        ((today() - timedelta(days=1)).isoformat(), "in the future"),
    ):
        again = await alice.say(wrong)
        assert why in text_of(again) and buttons(again) == ["default"]
    await alice.say("menu")  # two wrong answers so far; start again for the third kind of mistake
    await alice.choose("offer_unsecured")
    await alice.say("5.5 ZWG")
    await alice.say(BOB)
    assert "at most 5 weeks" in text_of(await alice.say((today() + timedelta(days=36)).isoformat()))
    assert "not a date in the calendar" in text_of(await alice.say("2030-02-30"))
    confirm = await alice.tap("default")
    assert f"*Due*  {default}" in text_of(confirm) and "*unsecured*" in text_of(confirm)
    done = await alice.tap("yes")
    assert "unsecured offer of 5.50 ZWG" in text_of(done)
    offer = offers(bot, ALICE, BOB)[-1]
    assert offer.status is CredexStatus.PENDING and not offer.secured and offer.due_date == date.fromisoformat(default)
    assert offer.amount == Decimal("5.5") and offer.denomination == "ZWG"


async def test_unsecured_offer_with_an_explicit_due_date(bot: Bot) -> None:
    due = (today() + timedelta(days=10)).isoformat()
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    await alice.say("3")
    await alice.say(BOB)
    confirm = await alice.say(due)
    assert due in text_of(confirm) and "3.00 USD" in text_of(confirm)
    await alice.say("Sign and send")
    offer = offers(bot, ALICE, BOB)[-1]
    assert not offer.secured and offer.due_date == date.fromisoformat(due) and offer.amount == Decimal("3")


async def test_default_is_also_accepted_as_a_word(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    await alice.say("3")
    await alice.say(BOB)
    confirm = await alice.say(" Default ")
    assert (today() + timedelta(weeks=4)).isoformat() in text_of(confirm)


# -- shortcuts ------------------------------------------------------------------------------------------


async def test_secured_shortcut_jumps_to_the_confirmation(bot: Bot) -> None:
    alice = await at_menu(bot)
    confirm = await alice.say(f"0.5=>{BOB}")
    assert buttons(confirm) == ["yes", "no"]
    assert "0.50 USD" in text_of(confirm) and "Demo Bob Personal" in text_of(confirm)
    await alice.tap("yes")
    offer = offers(bot, ALICE, BOB)[-1]
    assert offer.secured and offer.amount == Decimal("0.5") and creates(bot) == 1


async def test_unsecured_shortcut_with_a_date_jumps_to_the_confirmation(bot: Bot) -> None:
    due = (today() + timedelta(days=20)).isoformat()
    alice = await at_menu(bot)
    confirm = await alice.say(f"0.5->{BOB}={due}")
    assert buttons(confirm) == ["yes", "no"] and due in text_of(confirm)
    await alice.tap("yes")
    offer = offers(bot, ALICE, BOB)[-1]
    assert not offer.secured and offer.due_date == date.fromisoformat(due) and offer.amount == Decimal("0.5")


async def test_shortcut_to_an_unknown_handle_asks_for_the_handle(bot: Bot) -> None:
    alice = await at_menu(bot)
    answer = await alice.say("2=>nobody_here")
    assert "No account has the handle *nobody_here*" in text_of(answer) and "account handle" in text_of(answer)
    confirm = await alice.say(BOB)
    assert "2.00 USD" in text_of(confirm) and buttons(confirm) == ["yes", "no"]


# -- cancel, duplicates, timeouts -------------------------------------------------------------------------


async def test_cancel_creates_nothing(bot: Bot) -> None:
    before = len(sandbox(bot).ledger.credexes)
    alice = await at_menu(bot)
    confirm = await to_confirm(alice, "offer_secured", "9")
    assert "9.00 USD" in text_of(confirm)
    assert "Please tap *Sign and send* or *Don't send*" in text_of(await alice.say("maybe"))
    done = await alice.tap("no")
    assert CANCELLED in text_of(done)
    assert_menu(done)
    await to_confirm(alice, "offer_secured", "9")
    cancelled = text_of(await alice.say("cancel"))
    assert "Your offer of 9.00 USD to Demo Bob Personal" in cancelled and "Nothing was sent." in cancelled
    assert len(sandbox(bot).ledger.credexes) == before and creates(bot) == 0


@pytest.mark.parametrize("concurrent", [False, True])
async def test_the_same_confirmation_delivered_twice_creates_one_offer(bot: Bot, concurrent: bool) -> None:
    before = len(offers(bot, ALICE, BOB))
    alice = await at_menu(bot)
    await to_confirm(alice, "offer_secured", "4")
    tap = reply_message(ALICE, alice.current["yes"], title="Sign and send")
    if concurrent:
        first, second = await asyncio.gather(bot.send(tap), bot.send(tap))
    else:
        first, second = await bot.send(tap), await bot.send(tap)
    assert first.status_code == second.status_code == 200
    assert len(offers(bot, ALICE, BOB)) == before + 1 and creates(bot) == 1
    replies = text_of(await bot.outbox(ALICE))
    assert replies.count("offer of 4.00 USD was sent") == 1  # the duplicate got no reply at all


class TimeoutAfterCreate(httpx.AsyncBaseTransport):
    """Lets createCredex reach the sandbox, then loses the answer: the write happened, the bot cannot know."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith(CREATE):
            await response.aread()
            raise httpx.ReadTimeout("no answer in time", request=request)
        return response


async def test_a_timeout_on_create_says_check_your_dashboard(redis_client: Redis) -> None:
    async with bot_with(redis_client, wrap=TimeoutAfterCreate) as bot:
        before = len(offers(bot, ALICE, BOB))
        alice = await at_menu(bot)
        await to_confirm(alice, "offer_secured", "6")
        answer = await alice.tap("yes")
        shown = text_of(answer)
        assert "could not confirm" in shown and "check your dashboard" in shown and "was sent to" not in shown
        assert_menu(answer)
        assert len(offers(bot, ALICE, BOB)) == before + 1 and creates(bot) == 1


# -- recipients and refusals ------------------------------------------------------------------------------


async def test_unknown_handle_asks_again(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("5")
    answer = await alice.say("@Nobody_Here")
    assert "No account has the handle *nobody_here*" in text_of(answer)
    assert answer[-1]["body"].startswith("Who is the offer for?")
    confirm = await alice.say("alices_shop")  # her own business account is another account: allowed
    assert "Alice's Shop" in text_of(confirm) and buttons(confirm) == ["yes", "no"]


async def test_offering_to_your_own_active_account_is_refused(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("5")
    answer = await alice.say(f"+{ALICE}")
    assert "your own account" in text_of(answer) and "account handle" in text_of(answer)
    assert creates(bot) == 0


async def test_more_than_the_secured_balance_is_refused_when_typed_saying_what_can_be_offered(bot: Bot) -> None:
    before = len(offers(bot, ALICE, BOB))
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    answer = text_of(await alice.say("100000"))
    assert "You can offer at most *463.00 USD* secured right now" in answer  # 488.00 less 25.00 promised to Bob
    assert "25.00 USD of it is promised in offers waiting to be accepted" in answer and "*menu* to leave" in answer
    assert "How much" in answer and creates(bot) == 0
    assert "account handle" in text_of(await alice.say("463"))  # exactly what is left is allowed
    await alice.say(BOB)
    await alice.tap("yes")
    made = offers(bot, ALICE, BOB)
    assert len(made) == before + 1 and made[-1].amount == Decimal("463") and creates(bot) == 1


async def test_a_refusal_after_signing_asks_the_amount_again_and_returns_to_the_confirmation(bot: Bot) -> None:
    """The dashboard the bot checked against went stale (the balance moved after it was loaded): credex-core's
    refusal is explained and only the amount is asked again."""
    before = len(offers(bot, ALICE, BOB))
    alice = await at_menu(bot)
    account = sandbox(bot).ledger.account_by_handle(ALICE)
    account.secured["USD"] = Decimal("30")  # 5.00 free after the 25.00 promised to Bob
    await to_confirm(alice, "offer_secured", "10")
    answer = await alice.tap("yes")
    shown = text_of(answer)
    assert "maximum securable USD balance" in shown and "Nothing was sent" in shown and "How much" in shown
    confirm = await alice.say("5")  # straight back to the confirmation: Bob is still the recipient
    assert "5.00 USD" in text_of(confirm) and "Demo Bob Personal" in text_of(confirm)
    await alice.tap("yes")
    made = offers(bot, ALICE, BOB)
    assert len(made) == before + 1 and made[-1].amount == Decimal("5") and creates(bot) == 2


async def test_the_daily_limit_is_checked_when_the_amount_is_typed(bot: Bot) -> None:
    bob = await at_menu(bot, BOB)  # tier 1: 10.00 USD a day, 5.00 already offered to Chipo
    await bob.choose("offer_secured")
    answer = text_of(await bob.say("20"))
    assert "Your daily limit has *5.00 USD* left today" in answer and "How much" in answer
    await bob.say("menu")
    answer = text_of(await bob.say(f"20=>{ALICE}"))  # nor by a shortcut typed at the menu
    assert "Your daily limit has *5.00 USD* left today" in answer and "Type the shortcut again" in answer
    assert creates(bot) == 0 and offers(bot, BOB, ALICE) == []


def test_offer_flow_is_registered_with_the_menu_entry_steps() -> None:
    steps = REGISTRY.flows["offer"].steps
    assert {"amount", "lookup", "due", "confirm", "create"} <= set(steps)
    menu = REGISTRY.flows["menu"].steps["choose"]
    assert menu.on["offer_secured"] == menu.on["offer_unsecured"] == "offer.amount"
    assert menu.on["shortcut"] == "offer.lookup"


async def test_a_tap_on_an_earlier_confirmation_confirms_nothing(redis_client: Redis) -> None:
    async with bot_with(redis_client) as bot:
        alice = Person(bot, ALICE)
        await alice.say("hi")
        await alice.choose("offer_secured")
        await alice.say("5")
        first = await alice.say(BOB)
        assert buttons(first) == ["yes", "no"]
        stale_yes = alice.current["yes"]
        assert CANCELLED in text_of(await alice.tap("no"))
        await alice.choose("offer_secured")
        await alice.say("6")
        await alice.say(BOB)
        assert alice.current["yes"] != stale_yes
        response = await bot.send(reply_message(ALICE, stale_yes, title="Sign and send"))
        assert response.status_code == 200
        answer = await alice.read()
        assert "earlier message" in text_of(answer) and buttons(answer) == ["yes", "no"]
        assert creates(bot) == 0
        done = await alice.tap("yes")
        assert "6.00 USD" in text_of(done) and creates(bot) == 1
        assert [c.amount for c in offers(bot, ALICE, BOB)][-1] == Decimal("6")
