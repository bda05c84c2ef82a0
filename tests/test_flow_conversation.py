"""The conversation as people live it (issue 10): universal words, inputs as people write them, old and double
taps, the name check, timeouts, reactions and wording — through the real webhook, the dev outbox and the sandbox.

Each table row is what the person types or taps and what they must (or must not) see.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from app.api.notify import TEMPLATE_NAME
from app.credex.wiring import SANDBOX_KEY
from app.flows.runner import BACK_ON, NOTHING_TO_CANCEL, STALE, TIMED_OUT
from app.flows.words import classify
from app.state.keys import channel_keys
from tests.flows_kit import ALICE, BOB, CHIPO, Person, buttons, rows, sandbox, text_of
from tests.webhook_kit import Bot, new_id, reply_message

NEW = "263779990042"


def creates(bot: Bot) -> int:
    return int(sandbox(bot).requests.get("/createCredex", 0))


def is_menu(answer: list[dict[str, Any]]) -> bool:
    return bool(answer) and answer[-1]["kind"] == "list" and "offer_secured" in rows(answer)


def contact_card(sender: str, phones: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "from": sender,
        "id": new_id(),
        "timestamp": "1700000000",
        "type": "contacts",
        "contacts": [{"name": {"formatted_name": "Demo Bob", "first_name": "Demo"}, "phones": phones}],
    }


def reaction(sender: str, emoji: str) -> dict[str, Any]:
    return {
        "from": sender,
        "id": new_id(),
        "timestamp": "1700000000",
        "type": "reaction",
        "reaction": {"message_id": "wamid.earlier", "emoji": emoji},
    }


async def at_menu(bot: Bot, phone: str = ALICE) -> Person:
    person = Person(bot, phone)
    assert is_menu(await person.say("hi"))
    return person


# -- 1. universal words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    ["Hi!", "hello 👋", "hi there", "HEYYY", "good morning", "Good Evening 🌙", "Mhoroi", "makadini",
     "salibonani", "Sawubona!", "sanibonani", "hujambo", "Habari", "jambo", "Menu.", "main menu"],
)  # fmt: skip
async def test_greetings_as_people_write_them_show_the_menu_even_mid_offer(bot: Bot, said: str) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("12")
    answer = await alice.say(said)
    assert is_menu(answer) and "Secured balances" in text_of(answer) and "could not read" not in text_of(answer)
    assert creates(bot) == 0


def test_words_are_read_after_normalising_them() -> None:
    table = {
        "help": "help", "HELP!": "help", "?": "help", "??": "help", "help please": "help",
        "cancel": "cancel", "Cancel.": "cancel", "back": "cancel", "go back": "cancel",
        "stop": "stop", "STOP": "stop", "Stop!": "stop", "unsubscribe": "stop",
        "Tariro": None, "5=>bob": None, "0770000002": None, "Moyo": None,
    }  # fmt: skip
    assert {said: classify(said) for said in table} == table


@pytest.mark.parametrize("said", ["help", "?", "HELP"])
async def test_help_says_what_the_step_wants_and_keeps_it(bot: Bot, said: str) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    answer = await alice.say(said)
    shown = text_of(answer)
    assert "Type the amount to offer" in shown and "*cancel*" in shown and "I don't know" not in shown
    assert "account handle" in text_of(await alice.say("5"))  # still at the amount: help was no wrong answer
    confirm_help = text_of(await alice.say("help")) + text_of(await alice.say(BOB)) + text_of(await alice.say("?"))
    assert "phone number" in confirm_help and "Tap *Sign and send* to go ahead" in confirm_help


@pytest.mark.parametrize("said", ["cancel", "CANCEL", "back", "Go back"])
async def test_cancel_or_back_leaves_the_flow_and_says_nothing_was_sent(bot: Bot, said: str) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    await alice.say("7")
    await alice.say(BOB)
    answer = await alice.say(said)
    shown = text_of(answer)
    assert "Your offer of 7.00 USD to Demo Bob Personal was not sent." in shown and "Nothing was sent." in shown
    assert is_menu(answer) and creates(bot) == 0


async def test_cancel_at_the_menu_does_not_open_cancel_my_offers(bot: Bot) -> None:
    bob = await at_menu(bot, BOB)  # Bob has an offer of his own pending, so *Cancel my offers* is a row
    assert "cancel" in rows(await bob.say("menu"))
    answer = await bob.say("cancel")
    assert text_of(answer) == NOTHING_TO_CANCEL
    assert sandbox(bot).requests.get("/cancelCredex", 0) == 0
    assert "Offers you made" in text_of(await bob.say("Cancel my offers"))  # the row's title still opens it


async def test_cancel_during_onboarding_registers_nothing(bot: Bot) -> None:
    person = Person(bot, NEW)
    await person.say("hi")
    await person.tap("join")
    answer = await person.say("cancel")
    assert "You are not registered yet. Nothing was sent." in text_of(answer) and "*hi*" in text_of(answer)
    assert sandbox(bot).requests.get("/onboardMember", 0) == 0
    assert buttons(await person.say("hello")) == ["join"]


async def test_every_question_says_how_to_leave(bot: Bot) -> None:
    alice = await at_menu(bot)
    questions = [
        await alice.choose("offer_unsecured"),
        await alice.say("3"),
        await alice.say(BOB),
        await alice.tap("default"),
    ]
    for asked in questions:
        last = asked[-1]
        assert "cancel" in (last.get("footer") or last.get("body", "").splitlines()[-1]), last


async def test_stop_pauses_notifications_until_the_person_writes_again(bot: Bot, redis_client: Redis) -> None:
    key = {"x-client-api-key": SANDBOX_KEY}
    body = {"phoneNumber": BOB, "memberName": "Demo Bob", "message": "Alice offered you 12.50 USD."}
    bob = await at_menu(bot, BOB)
    await bob.choose("offer_secured")
    await bob.say("2")
    answer = await bob.say("STOP")
    assert "no notifications" in text_of(answer) and "Your offer of 2.00 USD was not sent." in text_of(answer)
    assert await redis_client.exists(channel_keys(BOB).optout) == 1
    refused = await bot.client.post("/notify", json=body, headers=key)
    assert refused.status_code == 202 and refused.json()["status"] == "opted_out"
    assert await bob.read() == []  # no template went out
    again = await bob.say("hi")
    assert BACK_ON in text_of(again) and is_menu(again)
    assert await redis_client.exists(channel_keys(BOB).optout) == 0
    sent = await bot.client.post("/notify", json=body, headers=key)
    assert sent.json()["status"] == "accepted"
    assert [m["name"] for m in await bob.read()] == [TEMPLATE_NAME]
    assert creates(bot) == 0


async def test_stop_outlives_the_session_and_a_later_message_resumes(bot: Bot, redis_client: Redis) -> None:
    alice = await at_menu(bot)
    await alice.say("stop")
    await redis_client.delete(channel_keys(ALICE).state)  # the 5-minute session lapses; the opt-out does not
    assert await redis_client.exists(channel_keys(ALICE).optout) == 1
    answer = await alice.say("hello")
    assert BACK_ON in text_of(answer) and is_menu(answer)


async def test_a_member_with_no_secured_balance_is_shown_the_way_out(bot: Bot) -> None:
    sandbox(bot).ledger.add_member(NEW, "Tariro", "Moyo", "USD")
    tariro = await at_menu(bot, NEW)
    asked = text_of(await tariro.choose("offer_secured"))
    assert "Your secured balance: none yet." in asked and "type *unsecured*" in asked
    refused = text_of(await tariro.say("5"))  # refused when typed: the dashboard shows no secured balance
    assert "no secured USD balance" in refused and "unsecured" in refused and "menu" in refused
    asked_again = text_of(await tariro.say("unsecured"))
    assert "unsecured" in asked_again and "How much" in asked_again
    await tariro.say("5")
    assert "When will you pay it?" in text_of(await tariro.say(BOB))
    confirm = await tariro.tap("default")
    assert "*Due*" in text_of(confirm) and "5.00 USD" in text_of(confirm)
    done = await tariro.tap("yes")
    assert "unsecured offer of 5.00 USD was sent" in text_of(done)
    offer = next(c for c in sandbox(bot).ledger.credexes.values() if c.amount == Decimal("5") and not c.secured)
    assert offer.due_date is not None and creates(bot) == 1


# -- 2. inputs as people write them -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+263 77 000 0002", "+263-77-000-0002", "0770000002", "077 000 0002",
                                   "(077) 000-0002", "00263770000002", "263770000002"])  # fmt: skip
async def test_phone_numbers_as_people_type_them_find_the_recipient(bot: Bot, typed: str) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("4")
    confirm = await alice.say(typed)
    assert "Demo Bob Personal" in text_of(confirm) and buttons(confirm) == ["yes", "no"]


async def test_an_incomplete_phone_number_is_explained(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("4")
    answer = await alice.say("+263 77")
    assert "looks incomplete" in text_of(answer) and "Who is the offer for?" in text_of(answer)


async def test_a_shared_contact_card_is_the_recipient(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    amount_step = await bot.send(contact_card(ALICE, [{"phone": "+263 77 000 0002", "wa_id": BOB}]))
    assert amount_step.status_code == 200
    explained = await alice.read()
    assert "contact card" in text_of(explained) and "How much" in text_of(explained)  # not an amount here
    await alice.say("4")
    await bot.send(contact_card(ALICE, [{"phone": "077 000 0002", "type": "CELL"}]))  # no wa_id: as written
    confirm = await alice.read()
    assert "Demo Bob Personal" in text_of(confirm) and buttons(confirm) == ["yes", "no"]
    await alice.tap("yes")
    assert creates(bot) == 1


async def test_row_numbers_and_typed_titles_pick_from_the_latest_list(bot: Bot) -> None:
    alice = await at_menu(bot)
    assert "How much" in text_of(await alice.say("1"))  # row 1 of the menu: Offer secured credex
    await alice.say("menu")
    assert "How much" in text_of(await alice.say("offer unsecured"))  # a row title, typed by hand
    await alice.say("2")
    await alice.say(BOB)
    confirm = await alice.say("default (4 weeks)")  # a button title, typed
    assert "*Due*" in text_of(confirm)
    assert "sent to Demo Bob Personal" in text_of(await alice.say("SIGN AND SEND"))


# -- old and double taps ----------------------------------------------------------------------------------


async def test_a_tap_on_an_earlier_message_is_never_read_as_typed_text(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    answer = await alice.choose("ledger")  # a row of the earlier menu, while the amount is asked
    shown = text_of(answer)
    assert STALE in shown and "How much" in shown and "ledger" not in shown.lower().replace("view ledger", "")
    assert "could not read" not in shown and "I don't know" not in shown
    await alice.say("3")
    await alice.say(BOB)
    done = await alice.tap("yes")
    assert "sent to" in text_of(done)
    again = await alice.choose("accept_all")  # no incoming offers any more: that row is gone
    assert STALE in text_of(again) and "accept_all" not in text_of(again) and is_menu(again)


async def test_a_double_tap_is_ignored_quietly(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("3")
    await alice.say(BOB)
    tap = alice.current["yes"]
    assert "sent to" in text_of(await alice.tap("yes"))
    assert (await bot.send(reply_message(ALICE, tap, title="Sign and send"))).status_code == 200
    assert await alice.read() == []  # the second tap of the same button: nothing, no second offer
    assert creates(bot) == 1


async def test_become_a_member_tapped_twice_is_not_a_name(bot: Bot) -> None:
    person = Person(bot, NEW)
    await person.say("hi")
    assert "first name" in text_of(await person.tap("join"))
    assert await person.tap("join") == []  # the double tap: quiet
    assert "last name" in text_of(await person.say("Tariro"))
    confirm = await person.say("Moyo")
    assert "You will be registered as *Tariro Moyo*" in text_of(confirm)
    assert "first name" in text_of(await person.tap("no"))  # Change name
    await person.say("Tariroh")
    await person.say("Moyo")
    done = await person.tap("yes")
    assert "Welcome, Tariroh" in text_of(done)
    member = sandbox(bot).ledger.member_by_phone(NEW) if hasattr(sandbox(bot).ledger, "member_by_phone") else None
    if member is not None:
        assert (member.firstname, member.lastname) == ("Tariroh", "Moyo")


# -- 4. timeouts ------------------------------------------------------------------------------------------


async def test_a_timed_out_confirmation_says_the_offer_was_not_sent(bot: Bot, redis_client: Redis) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    await alice.say("5")
    await alice.say(BOB)
    await redis_client.delete(channel_keys(ALICE).state)
    answer = await alice.tap("yes")
    assert f"{TIMED_OUT} Your offer of 5.00 USD to Demo Bob Personal was not sent." in text_of(answer)
    assert is_menu(answer) and creates(bot) == 0


async def test_the_active_account_survives_the_timeout(bot: Bot, redis_client: Redis) -> None:
    alice = await at_menu(bot)
    await alice.say("switch account")
    switched = await alice.say("alices_shop")
    assert "*Alice's Shop*" in text_of(switched)
    await redis_client.delete(channel_keys(ALICE).state)
    answer = await alice.say("hi")
    assert "*Alice's Shop*" in text_of(answer) and "timed out" not in text_of(answer)


# -- 6. silent updates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("emoji", ["👍", ""])
async def test_a_reaction_or_its_removal_gets_no_reply(bot: Bot, emoji: str) -> None:
    alice = await at_menu(bot)
    assert (await bot.send(reaction(ALICE, emoji))).status_code == 200
    assert await alice.read() == []


async def test_an_edit_of_an_earlier_message_gets_no_reply(bot: Bot) -> None:
    alice = await at_menu(bot)
    edit = {
        "from": ALICE,
        "id": new_id(),
        "timestamp": "1700000000",
        "type": "edit",
        "edit": {"original_message_id": "wamid.earlier", "message": {"type": "text", "text": {"body": "hii"}}},
    }
    assert (await bot.send(edit)).status_code == 200
    assert await alice.read() == []


async def test_a_shortcut_at_any_question_starts_that_offer(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    await alice.say("9")
    confirm = await alice.say(f"2=>{BOB}")  # typed at the recipient question
    shown = text_of(confirm)
    assert "Your offer of 9.00 USD was not sent." in shown and "2.00 USD" in shown and "*secured*" in shown
    assert buttons(confirm) == ["yes", "no"]
    await alice.tap("yes")
    assert creates(bot) == 1


async def test_help_at_the_menu_lists_shortcuts_and_the_words(bot: Bot) -> None:
    alice = await at_menu(bot)
    shown = text_of(await alice.say("help"))
    assert "*5=>handle*" in shown and "*cancel*" in shown and "*stop*" in shown


# -- 9. wording and limits --------------------------------------------------------------------------------


async def test_a_very_long_wrong_answer_is_refused_not_crashed(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_secured")
    answer = await alice.say("x" * 5000)
    assert "could not read" in text_of(answer) and "How much" in text_of(answer)
    assert "went wrong" not in text_of(answer)


async def test_the_third_wrong_answer_keeps_the_amount_and_recipient(bot: Bot) -> None:
    alice = await at_menu(bot)
    await alice.choose("offer_unsecured")
    await alice.say("6")
    await alice.say(BOB)
    for wrong in ("tomorrow", "next week", "soon"):
        answer = await alice.say(wrong)
    shown = text_of(answer)
    assert "Your offer of 6.00 USD to Demo Bob Personal is kept" in shown and "YYYY-MM-DD" in shown
    confirm = await alice.tap("default")
    assert "6.00 USD" in text_of(confirm) and "Demo Bob Personal" in text_of(confirm)


async def test_grammar_of_the_offer_question_and_the_dashboard(bot: Bot) -> None:
    alice = await at_menu(bot)
    assert "as an *unsecured* credex" in text_of(await alice.choose("offer_unsecured"))
    await alice.say("menu")
    assert "as a *secured* credex" in text_of(await alice.choose("offer_secured"))
    shown = text_of(await alice.say("menu"))
    assert "offer(s)" not in shown and "Pending: 1 offer to you, 1 from you" in shown


async def test_decline_buttons_are_unambiguous(bot: Bot) -> None:
    bob = await at_menu(bot, BOB)
    await bob.choose("decline")
    pending = sandbox(bot).ledger
    offer = next(c for c in pending.credexes.values() if c.status.value == "PENDING" and c.amount == Decimal("25"))
    confirm = await bob.choose(offer.credex_id)
    titles = [b["title"] for m in confirm for b in m.get("buttons", [])]
    assert titles == ["Decline offer", "Keep it"]
    assert CHIPO  # Chipo's offer to Bob is untouched by this table


@pytest.mark.parametrize(
    ("typed", "region", "handle"),
    [
        ("0770000002", "ZW", "263770000002"),
        ("082 123 4567", "ZA", "27821234567"),
        ("+263 77 000 0002", "ZA", "263770000002"),  # a country code wins over the region
        ("0712 345 678", "KE", "254712345678"),
        ("alices_shop", "ZW", "alices_shop"),
    ],
)
def test_the_default_region_reads_local_numbers(typed: str, region: str, handle: str) -> None:
    from app.components.handles import parse_handle

    assert parse_handle(typed, region=region).value == handle


async def test_default_phone_region_is_a_setting(redis_client: Redis) -> None:
    from tests.flows_kit import bot_with

    sandbox_phone = "27821234567"
    async with bot_with(redis_client, default_phone_region="ZA") as bot:
        sandbox(bot).ledger.add_member(sandbox_phone, "Thandi", "Nkosi", "USD")
        alice = await at_menu(bot)
        await alice.choose("offer_secured")
        await alice.say("1")
        confirm = await alice.say("082 123 4567")
        assert "Thandi" in text_of(confirm) and buttons(confirm) == ["yes", "no"]
