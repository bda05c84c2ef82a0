"""Login, onboarding, the dashboard and the menu, through the real webhook and the sandbox."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from app.flows.registry import REGISTRY
from app.flows.runner import TIMED_OUT
from app.flows.words import RESET_WORDS
from app.state.keys import channel_keys
from tests.flows_kit import ALICE, BOB, Person, buttons, rows, sandbox, text_of
from tests.webhook_kit import Bot

NEW = "263779990001"


async def test_demo_member_gets_dashboard_and_menu(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    answer = await alice.say("hi")
    shown = text_of(answer)
    assert "Secured balances" in shown and "USD" in shown
    assert "offer_secured" in rows(answer) and "ledger" in rows(answer)
    assert answer[-1]["kind"] == "list"


async def test_new_number_is_onboarded(bot: Bot, redis_client: Redis) -> None:
    person = Person(bot, NEW)
    answer = await person.say("hello")
    assert buttons(answer) == ["join"]
    assert "What is your *first name*?" in text_of(await person.tap("join"))
    wrong = await person.say("J0hn")
    assert "only letters" in text_of(wrong) and "first name" in text_of(wrong)
    short = await person.say("Jo")
    assert "at least 3 letters" in text_of(short) and "*Jo* has 2" in text_of(short)
    assert "last name" in text_of(await person.say("Tendai"))
    for bad, why in (("M", "at least 3 letters"), ("Moyo2", "only letters")):
        assert why in text_of(await person.say(bad))
    confirm = await person.say("Moyo-Ncube")
    assert "You will be registered as *Tendai Moyo-Ncube*. Is that correct?" in text_of(confirm)
    assert buttons(confirm) == ["yes", "no"] and sandbox(bot).requests.get("/onboardMember", 0) == 0
    done = await person.tap("yes")
    assert "Welcome, Tendai" in text_of(done)
    assert "Secured balances" in text_of(done) and "offer_secured" in rows(done)
    again = await person.say("menu")
    assert "Tendai Moyo-Ncube" in text_of(again) or NEW in text_of(again)


async def test_attempts_are_counted_and_the_menu_offered_after_three(bot: Bot, redis_client: Redis) -> None:
    person = Person(bot, NEW)
    await person.say("hi")
    await person.tap("join")
    await person.say("1")
    await person.say("2")
    answer = await person.say("3")
    assert "didn't work 3 times" in text_of(answer)
    assert buttons(answer) == ["join"]  # not a member yet: back to the start


async def test_unknown_menu_choice_is_answered(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    answer = await alice.say("fly me to the moon")
    assert "choose from the list" in text_of(answer)
    assert answer[-1]["kind"] == "list"


@pytest.mark.parametrize("word", sorted(RESET_WORDS))
async def test_reset_words_return_to_the_menu(bot: Bot, word: str) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    answer = await alice.say(f"  {word.upper()} ")
    assert "Secured balances" in text_of(answer)


async def test_session_timeout_with_nothing_in_progress_says_nothing_of_it(bot: Bot, redis_client: Redis) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await redis_client.delete(channel_keys(ALICE).state)  # what 300 s of silence does
    answer = await alice.say("ledger")
    assert "timed out" not in text_of(answer) and "Secured balances" in text_of(answer)  # nothing was lost


async def test_tier_one_member_sees_upgrade_and_daily_limit(bot: Bot) -> None:
    answer = await Person(bot, BOB).say("hi")
    assert "Daily limit left" in text_of(answer)


def test_every_menu_action_has_its_flow() -> None:
    menu = REGISTRY.flows["menu"].steps["choose"].component
    assert menu.outcomes >= {"offer_secured", "accept", "ledger", "more"}


async def test_session_timeout_mid_offer_starts_over(bot: Bot, redis_client: Redis) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await alice.choose("offer_secured")
    await alice.say("12")
    await redis_client.delete(channel_keys(ALICE).state)  # 300 s pass in the middle of the offer
    answer = await alice.say("263770000002")
    assert f"{TIMED_OUT} Your offer of 12.00 USD was not sent." in text_of(answer)
    assert "Secured balances" in text_of(answer)
    assert sandbox(bot).requests.get("/createCredex", 0) == 0


async def test_reset_word_mid_offer_returns_to_the_menu_and_sends_nothing(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await alice.choose("offer_secured")
    await alice.say("12")
    answer = await alice.say("Mhoro")
    assert "Secured balances" in text_of(answer) and answer[-1]["kind"] == "list"
    again = await alice.say("263770000002")  # the old step is gone: this is now a menu answer
    assert "choose from the list" in text_of(again)
    assert sandbox(bot).requests.get("/createCredex", 0) == 0


async def test_welcome_and_menu_refuse_wrong_answers_specifically(bot: Bot) -> None:
    person = Person(bot, NEW)
    await person.say("hi")
    for wrong in ("what is this?", "no"):
        answer = await person.say(wrong)
        assert "Tap *Become a member*" in text_of(answer) and buttons(answer) == ["join"]
    alice = Person(bot, ALICE)
    await alice.say("hi")
    for wrong, why in (("5=>", "Shortcuts look like"), ("1e3=>263770000002", "plain digits")):
        answer = await alice.say(wrong)
        assert why in text_of(answer) and answer[-1]["kind"] == "list"
