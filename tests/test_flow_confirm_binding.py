"""Confirmations are bound to their prompt: an answer sent before the prompt was created confirms nothing, and
every write the flows make carries an Idempotency-Key derived from the confirmation that allowed it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from redis.asyncio import Redis

from app.components import base
from app.credex.client_base import IDEMPOTENCY_HEADER
from tests.credex_support import Recording
from tests.flows_kit import ALICE, BOB, Person, bot_with, buttons, rows, sandbox, text_of
from tests.webhook_kit import Bot, reply_message, text_message

CREATE = "/createCredex"
STALE = "sent before this confirmation"


def creates(bot: Bot) -> int:
    return int(sandbox(bot).requests[CREATE])


async def to_confirm(person: Person, amount: str) -> None:
    await person.choose("offer_secured")
    await person.say(amount)
    answer = await person.say(BOB)
    assert buttons(answer) == ["yes", "no"], text_of(answer)


async def test_an_old_typed_yes_redelivered_after_a_new_confirmation_confirms_nothing(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Meta redelivers a typed "yes" after its id was forgotten (3 ids remembered here): by then a new
    confirmation is open, and the old "yes" must not sign it."""
    monkeypatch.setattr(base, "CONFIRM_SKEW_SECONDS", 0)  # so one second of real time makes the old answer older
    async with bot_with(redis_client, state_processed_ids=3) as bot:
        alice = Person(bot, ALICE)
        await alice.say("hi")
        await to_confirm(alice, "5")
        old_yes = text_message(ALICE, "yes")
        assert (await bot.send(old_yes)).status_code == 200
        assert "5.00 USD was sent" in text_of(await alice.read()) and creates(bot) == 1
        await asyncio.sleep(1.1)
        await to_confirm(alice, "6")
        assert (await bot.send(old_yes)).status_code == 200
        answer = await alice.read()
        assert creates(bot) == 1  # the sandbox saw no new createCredex
        assert STALE in text_of(answer) and "tap *Sign and send* below" in text_of(answer)
        assert buttons(answer) == ["yes", "no"]
        done = await alice.tap("yes")
        assert "6.00 USD was sent" in text_of(done) and creates(bot) == 2


async def test_an_answer_typed_before_the_prompt_never_confirms_it_and_costs_no_attempt(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await to_confirm(alice, "7")
    for word in ("yes", "sign", "Sign and send"):  # three: more than the wrong answers allowed before the menu
        late = text_message(ALICE, word)
        late["timestamp"] = str(int(time.time()) - 60)  # typed a minute ago, delivered now
        assert (await bot.send(late)).status_code == 200
        answer = await alice.read()
        assert STALE in text_of(answer) and buttons(answer) == ["yes", "no"] and creates(bot) == 0
    old_tap = reply_message(ALICE, alice.current["yes"], title="Sign and send")
    old_tap["timestamp"] = str(int(time.time()) - 60)
    await bot.send(old_tap)
    assert STALE in text_of(await alice.read()) and creates(bot) == 0
    done = await alice.tap("yes")
    assert "7.00 USD was sent" in text_of(done) and creates(bot) == 1


async def test_an_answer_within_the_clock_skew_still_counts(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await to_confirm(alice, "3")
    early = text_message(ALICE, "yes")
    early["timestamp"] = str(int(time.time()) - base.CONFIRM_SKEW_SECONDS + 1)
    await bot.send(early)
    assert "3.00 USD was sent" in text_of(await alice.read()) and creates(bot) == 1


async def test_the_offer_carries_a_key_bound_to_its_confirmation(redis_client: Redis) -> None:
    recorded: list[Recording] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        recorded.append(Recording(inner))
        return recorded[-1]

    async with bot_with(redis_client, wrap=wrap) as bot:
        alice = Person(bot, ALICE)
        menu = await alice.say("hi")
        assert "offer_secured" in rows(menu)
        keys = []
        for amount in ("2", "2"):  # the same offer twice is two confirmations, so two keys
            await to_confirm(alice, amount)
            await alice.tap("yes")
            sent = [e for e in recorded[0].exchanges if e.path == CREATE]
            keys.append(sent[-1].request_headers[IDEMPOTENCY_HEADER])
        assert all(k.startswith("vp1-") and len(k) == 36 for k in keys) and keys[0] != keys[1]
        reads = [e for e in recorded[0].exchanges if e.path == "/getMemberDashboardByPhone"]
        assert reads and all(IDEMPOTENCY_HEADER not in e.request_headers for e in reads)


async def test_accept_decline_and_cancel_carry_keys_bound_to_the_offer_and_its_confirmation(
    redis_client: Redis,
) -> None:
    recorded: list[Recording] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        recorded.append(Recording(inner))
        return recorded[-1]

    async with bot_with(redis_client, wrap=wrap) as bot:
        ledger = sandbox(bot).ledger
        bob_account = ledger.account_by_handle(BOB).account_id
        alice_account = ledger.account_by_handle(ALICE).account_id
        pending = [c for c in ledger.credexes.values() if c.status == "PENDING"]
        to_bob = next(c for c in pending if c.receiver_account_id == bob_account)
        from_bob = next(c for c in pending if c.issuer_account_id == bob_account)
        bob = Person(bot, BOB)
        await bob.say("hi")
        for row, credex in (("accept", to_bob), ("cancel", from_bob)):
            await bob.choose(row)
            await bob.choose(credex.credex_id)
            await bob.tap("yes")
            await bob.say("menu")
        alice = Person(bot, ALICE)
        await alice.say("hi")
        await alice.choose("decline")
        to_alice = next(
            c for c in ledger.credexes.values() if c.receiver_account_id == alice_account and c.status == "PENDING"
        )
        await alice.choose(to_alice.credex_id)
        await alice.tap("yes")
        keys = {
            e.path: e.request_headers.get(IDEMPOTENCY_HEADER)
            for e in recorded[0].exchanges
            if e.path in ("/acceptCredex", "/cancelCredex", "/declineCredex")
        }
        assert set(keys) == {"/acceptCredex", "/cancelCredex", "/declineCredex"}
        assert all(k and k.startswith("vp1-") for k in keys.values()) and len(set(keys.values())) == 3
