"""Amounts through the real webhook: decimal commas asked about, never multiplied; currencies as people name them;
precision and what the person can offer checked when the amount is typed, before anyone is asked to sign."""

from __future__ import annotations

from decimal import Decimal

from app.credex.sandbox_ledger import Credex
from tests.flows_kit import ALICE, BOB, CHIPO, Person, buttons, sandbox, text_of
from tests.webhook_kit import Bot

CREATE = "/createCredex"


def creates(bot: Bot) -> int:
    return int(sandbox(bot).requests[CREATE])


def last_offer(bot: Bot, issuer: str = ALICE) -> Credex:
    ledger = sandbox(bot).ledger
    src = ledger.account_by_handle(issuer).account_id
    return max((c for c in ledger.credexes.values() if c.issuer_account_id == src), key=lambda c: c.seq)


async def offering(bot: Bot, row: str = "offer_secured", phone: str = ALICE) -> Person:
    person = Person(bot, phone)
    await person.say("hi")
    asked = await person.choose(row)
    assert "How much" in text_of(asked)
    return person


async def test_a_decimal_comma_is_asked_about_and_the_offer_has_exactly_that_amount(bot: Bot) -> None:
    alice = await offering(bot)
    asked = await alice.say("20,50")
    assert "Did you mean *20.50 USD*?" in text_of(asked) and buttons(asked) == ["pick1", "retype"]
    assert "2,050" not in text_of(asked)
    assert "account handle" in text_of(await alice.tap("pick1"))
    confirm = await alice.say(BOB)
    assert "20.50 USD" in text_of(confirm) and buttons(confirm) == ["yes", "no"]
    await alice.tap("yes")
    offer = last_offer(bot)
    assert offer.amount == Decimal("20.50") and offer.denomination == "USD" and creates(bot) == 1


async def test_no_at_the_question_asks_for_the_amount_again_and_a_retyped_amount_answers_it(bot: Bot) -> None:
    alice = await offering(bot, "offer_unsecured")
    asked = await alice.say("0,5")
    assert "Did you mean *0.50 USD*?" in text_of(asked)
    again = await alice.tap("retype")
    assert "How much" in text_of(again) and creates(bot) == 0
    await alice.say("5,50")
    assert "account handle" in text_of(await alice.say("5.50"))  # typed again instead of tapping
    await alice.say(BOB)
    confirm = await alice.tap("default")
    assert "5.50 USD" in text_of(confirm) and "550" not in text_of(confirm)


async def test_a_dot_that_could_group_thousands_offers_both_meanings(bot: Bot) -> None:
    alice = await offering(bot, "offer_unsecured")
    asked = await alice.say("1.500")
    shown = text_of(asked)
    assert "Did you mean *1.50 USD* or *1,500.00 USD*?" in shown and buttons(asked) == ["pick1", "pick2"]
    assert "1.50 USD" in shown and "1,500.00 USD" in shown  # the buttons say the amounts
    assert "account handle" in text_of(await alice.say("1.50 usd"))  # a button's title typed by hand
    await alice.say(BOB)
    await alice.tap("default")
    await alice.tap("yes")
    assert last_offer(bot).amount == Decimal("1.500")


async def test_a_meaning_beyond_the_secured_balance_is_refused_saying_what_can_be_offered(bot: Bot) -> None:
    alice = await offering(bot)
    await alice.say("1.500")
    answer = text_of(await alice.tap("pick2"))
    assert "You can offer at most *463.00 USD* secured right now" in answer and "How much" in answer
    assert creates(bot) == 0


async def test_an_old_question_button_does_nothing(bot: Bot) -> None:
    alice = await offering(bot)
    await alice.say("20,50")
    old = alice.current["pick1"]
    await alice.tap("retype")
    await alice.say("7,5")
    answer = await alice.tap(old)
    assert "earlier message" in text_of(answer) and "Did you mean *7.50 USD*?" in text_of(answer)
    assert "account handle" in text_of(await alice.tap("pick1"))
    await alice.say(BOB)
    await alice.tap("yes")
    assert last_offer(bot).amount == Decimal("7.5")


async def test_forms_with_no_sensible_meaning_and_other_currencies_are_refused_plainly(bot: Bot) -> None:
    alice = await offering(bot)
    answer = text_of(await alice.say("1,2,3"))
    assert "could not read *1,2,3*" in answer and "*20.50* or *5,000*" in answer and "How much" in answer
    answer = text_of(await alice.say("EUR 5"))
    assert "Only USD, ZWG, CAD, CXX and XAU are supported, so I can't make an offer in *EUR*" in answer
    assert "How much" in answer and creates(bot) == 0


async def test_currency_signs_and_words_name_usd(bot: Bot) -> None:
    for typed, amount in (("$5", "5.00 USD"), ("US$20", "20.00 USD"), ("5 dollars", "5.00 USD"), ("5 usd", "5.00 USD")):
        alice = await offering(bot)
        await alice.say(typed)
        confirm = await alice.say(BOB)
        assert f"*Amount*  {amount}" in text_of(confirm), typed
        await alice.say("menu")
    assert creates(bot) == 0


async def test_thousands_groups_are_read_as_thousands(bot: Bot) -> None:
    alice = await offering(bot, "offer_unsecured")
    await alice.say("1,250.50")
    await alice.say(BOB)
    confirm = await alice.tap("default")
    assert "1,250.50 USD" in text_of(confirm)
    await alice.tap("yes")
    assert last_offer(bot).amount == Decimal("1250.50")


async def test_precision_is_checked_when_typed(bot: Bot) -> None:
    chipo = await offering(bot, "offer_unsecured", CHIPO)
    answer = text_of(await chipo.say("CXX 0.001"))
    assert "CXX amounts take at most 2 decimal places" in answer and "How much" in answer
    assert "account handle" in text_of(await chipo.say("XAU 0.0001"))
    assert creates(bot) == 0


async def test_a_decimal_comma_in_a_shortcut_is_asked_to_be_typed_again(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    answer = text_of(await alice.say(f"20,50=>{BOB}"))
    assert "could mean *20.50 USD*" in answer and f"*20.50=>{BOB}*" in answer and creates(bot) == 0
    answer = text_of(await alice.say(f"1.500->{BOB}"))
    assert "could mean *1.50 USD* or *1,500.00 USD*" in answer and f"*1.50->{BOB}*" in answer
    await alice.say("hi")  # two wrong answers so far: start again before a third
    answer = text_of(await alice.say(f"ZWG 0,5=>{BOB}"))
    assert "could mean *0.50 ZWG*" in answer and f"*0.50 ZWG=>{BOB}*" in answer
    confirm = await alice.say(f"20.50=>{BOB}")
    assert "20.50 USD" in text_of(confirm) and buttons(confirm) == ["yes", "no"]


async def test_no_secured_balance_says_so_and_how_to_leave(bot: Bot) -> None:
    sandbox(bot).ledger.account_by_handle(BOB).secured["USD"] = Decimal("0")
    bob = await offering(bot, phone=BOB)
    answer = text_of(await bob.say("1"))
    assert "You can't offer a secured credex in USD right now: you have no secured USD balance" in answer
    assert "*Offer unsecured*" in answer and "Type *menu* to leave" in answer and creates(bot) == 0
