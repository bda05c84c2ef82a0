"""Every kind of credex-core write, crashed right after credex-core performed it (the step dies before the
commit, as a killed worker leaves it), then answered again: exactly one write, and the person told it was done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.flows_kit import ALICE, BOB, CHIPO, Person, bot_with, sandbox, text_of
from tests.test_flow_account import open_action, switch_to
from tests.test_flow_pending import ledger_of, offer
from tests.test_intents import Once


def crash_after(path: str) -> type[Once]:
    """The first request to `path` reaches the sandbox and takes effect; then the step raises."""
    return type(f"CrashAfter{path.strip('/')}", (Once,), {"path": path, "fault": RuntimeError})


def refused_before(path: str) -> type[Once]:
    """The first request to `path` never reaches the sandbox (connection refused)."""
    return type(f"Refused{path.strip('/')}", (Once,), {"path": path, "after": False})


async def decline(bot: Any) -> Person:
    credex = offer(ledger_of(bot), CHIPO, ALICE, "15.00")
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await alice.choose("decline")
    await alice.choose(credex.credex_id)
    return alice


async def cancel(bot: Any) -> Person:
    credex = offer(ledger_of(bot), ALICE, BOB, "25.00")
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await alice.choose("cancel")
    await alice.choose(credex.credex_id)
    return alice


async def accept(bot: Any) -> Person:
    credex = offer(ledger_of(bot), ALICE, BOB, "25.00")
    bob = Person(bot, BOB)
    await bob.say("hi")
    await bob.choose("accept")
    await bob.choose(credex.credex_id)
    return bob


async def accept_all(bot: Any) -> Person:
    offer(ledger_of(bot), BOB, CHIPO, "5.00")
    offer(ledger_of(bot), "alices_shop", CHIPO, "30.00")
    chipo = Person(bot, CHIPO)
    await chipo.say("hi")
    await chipo.choose("accept_all")
    return chipo


async def upgrade(bot: Any) -> Person:
    bob = Person(bot, BOB)
    await bob.say("hi")
    await open_action(bob, "upgrade")
    return bob


async def business(bot: Any) -> Person:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await open_action(alice, "create_business")
    await alice.say("Alice's Bakery")
    await alice.say("alices_bakery")
    return alice


async def join(bot: Any) -> Person:
    person = Person(bot, "263779990001")
    await person.say("hello")
    await person.tap("join")
    await person.say("Tendai")
    await person.say("Moyo")
    return person


async def authorize(bot: Any) -> Person:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await switch_to(bot, alice, "alices_shop")
    await open_action(alice, "authorize")
    await alice.say(f"@{BOB}")
    return alice


Setup = Callable[[Any], Awaitable[Person]]
CASES: list[tuple[str, Setup, str]] = [
    ("/acceptCredex", accept, "accepted"),
    ("/declineCredex", decline, "declined"),
    ("/cancelCredex", cancel, "cancelled"),
    ("/acceptCredexBulk", accept_all, "accepted"),
    ("/createRecurring", upgrade, "entrepreneur tier"),
    ("/createAccount", business, "is open"),
    ("/onboardMember", join, "welcome, tendai"),
    ("/authorizeForAccount", authorize, "could not confirm whether this change went through"),
]


@pytest.mark.parametrize(("path", "setup", "told"), CASES, ids=[c[0].strip("/") for c in CASES])
async def test_a_crash_after_the_write_then_the_same_answer_writes_once(
    redis_client: Redis, path: str, setup: Setup, told: str
) -> None:
    async with bot_with(redis_client, wrap=crash_after(path)) as bot:
        person = await setup(bot)
        first = text_of(await person.tap("yes")).lower()
        assert "nothing was changed" not in first  # not a lie: the write may well have happened
        again = text_of(await person.tap("yes")).lower()
        assert told in again, again
        assert "no longer pending" not in again
        assert int(sandbox(bot).requests[path]) == 1


@pytest.mark.parametrize(("path", "setup", "told"), CASES, ids=[c[0].strip("/") for c in CASES])
async def test_the_same_fault_before_the_write_writes_nothing_and_says_so(
    redis_client: Redis, path: str, setup: Setup, told: str
) -> None:
    async with bot_with(redis_client, wrap=refused_before(path)) as bot:
        person = await setup(bot)
        said = text_of(await person.tap("yes")).lower()
        assert "nothing was changed" in said and told not in said, said
        assert int(sandbox(bot).requests.get(path, 0)) == 0
