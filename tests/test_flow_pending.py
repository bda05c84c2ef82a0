"""Pending offers: accept, decline, cancel and accept all, through the real webhook and the credex sandbox."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from app.components.pending import PAGE_SIZE
from app.credex.models import CreateCredexRequest, Denomination
from app.credex.sandbox_ledger import Credex, CredexStatus, Ledger
from app.credex.sandbox_offers import cancel_credex, create_credex, settled
from app.flows.registry import REGISTRY
from app.flows.tables.start import MENU_TARGETS
from tests.flows_kit import ALICE, BOB, CHIPO, Person, buttons, rows, sandbox, text_of
from tests.webhook_kit import Bot, reply_message

WRITES = ("/acceptCredex", "/declineCredex", "/cancelCredex", "/acceptCredexBulk")


def ledger_of(bot: Bot) -> Ledger:
    ledger: Ledger = sandbox(bot).ledger
    return ledger


def writes(bot: Bot) -> dict[str, int]:
    return {path: sandbox(bot).requests[path] for path in WRITES}


def offer(ledger: Ledger, issuer: str, receiver: str, amount: str) -> Credex:
    """The one seeded offer between two account handles for `amount`."""
    found = [
        c
        for c in ledger.credexes.values()
        if c.issuer_account_id == ledger.account_by_handle(issuer).account_id
        and c.receiver_account_id == ledger.account_by_handle(receiver).account_id
        and c.amount == Decimal(amount)
        and c.status is CredexStatus.PENDING
    ]
    assert len(found) == 1, found
    return found[0]


def usd(ledger: Ledger, handle: str) -> Decimal:
    return ledger.account_by_handle(handle).secured.get("USD", Decimal(0))


def make_offers(ledger: Ledger, issuer: str, receiver: str, count: int, amount: str = "1.00") -> list[str]:
    """Offers created in credex-core directly, as another client of it would."""
    issuer_account = ledger.account_by_handle(issuer)
    member = ledger.members[issuer_account.owner_id]
    ids = []
    for _ in range(count):
        request = CreateCredexRequest(
            issuer_account_id=issuer_account.account_id,
            receiver_account_id=ledger.account_by_handle(receiver).account_id,
            denomination=Denomination.USD,
            initial_amount=Decimal(amount),
            secured_credex=True,
        )
        ids.append(create_credex(ledger, member, request).credex_id)
    return ids


async def at_menu(bot: Bot, phone: str) -> Person:
    person = Person(bot, phone)
    assert (await person.say("hi"))[-1]["kind"] == "list"
    return person


def is_menu(messages: list[dict[str, Any]]) -> bool:
    return "Secured balances" in text_of(messages) and "ledger" in rows(messages)


def test_menu_entries_exist() -> None:
    for action in ("accept", "decline", "cancel", "accept_all"):
        flow, step = MENU_TARGETS[action].split(".")
        assert REGISTRY.step(flow, step) is not None
    assert REGISTRY.flows["pending"].trigger


async def test_bob_accepts_alices_secured_offer(bot: Bot) -> None:
    ledger = ledger_of(bot)
    credex = offer(ledger, ALICE, BOB, "25.00")
    alice_before = usd(ledger, ALICE)  # 500.00 less the seed's settled history
    bob = await at_menu(bot, BOB)
    listed = await bob.choose("accept")
    assert rows(listed) == [credex.credex_id, "menu"]
    assert "25.00 USD" in text_of(listed) and "Demo Alice" in text_of(listed)
    confirm = await bob.choose(credex.credex_id)
    shown = text_of(confirm)
    assert "Accept this offer?" in shown and "*25.00 USD* from *Demo Alice Personal*" in shown
    assert "Secured credex" in shown and buttons(confirm) == ["yes", "no"]
    assert writes(bot)["/acceptCredex"] == 0
    done = await bob.tap("yes")
    assert "✅ You accepted the offer of *25.00 USD* from *Demo Alice Personal*." in text_of(done)
    assert "No offers are waiting" in text_of(done) and is_menu(done)  # the last one: back to the menu
    assert credex.status is CredexStatus.ACCEPTED
    assert usd(ledger, BOB) == Decimal("65.00") and usd(ledger, ALICE) == alice_before - Decimal("25.00")
    assert settled(ledger, ledger.account_by_handle(BOB))[0] is credex
    assert writes(bot) == {"/acceptCredex": 1, "/declineCredex": 0, "/cancelCredex": 0, "/acceptCredexBulk": 0}
    assert "+25.00 USD" in text_of(await bob.choose("ledger"))  # and the bot's ledger shows it


async def test_accepting_returns_to_the_list_while_offers_remain(bot: Bot) -> None:
    ledger = ledger_of(bot)
    [extra] = make_offers(ledger, CHIPO, BOB, 1, "2.00")
    alices = offer(ledger, ALICE, BOB, "25.00")
    bob = await at_menu(bot, BOB)
    await bob.choose("accept")
    await bob.choose(extra)
    done = await bob.tap("yes")
    assert "You accepted the offer of *2.00 USD*" in text_of(done)
    assert rows(done) == [alices.credex_id, "menu"]  # the list again, reloaded: only Alice's offer is left
    assert ledger.credexes[extra].status is CredexStatus.ACCEPTED and alices.status is CredexStatus.PENDING


async def test_alice_declines_chipos_offer(bot: Bot) -> None:
    ledger = ledger_of(bot)
    credex = offer(ledger, CHIPO, ALICE, "15.00")
    alice_before = usd(ledger, ALICE)
    alice = await at_menu(bot, ALICE)
    listed = await alice.choose("decline")
    assert rows(listed) == [credex.credex_id, "menu"]
    confirm = await alice.choose(credex.credex_id)
    assert "Decline this offer?" in text_of(confirm) and "Decline" in text_of(confirm)
    done = await alice.tap("yes")
    assert "You declined the offer of *15.00 USD* from *Demo Chipo Personal*" in text_of(done) and is_menu(done)
    assert credex.status is CredexStatus.DECLINED
    assert usd(ledger, ALICE) == alice_before and usd(ledger, CHIPO) == Decimal("212.00")
    assert writes(bot)["/declineCredex"] == 1 and writes(bot)["/acceptCredex"] == 0


async def test_the_confirmation_shows_an_unsecured_offers_due_date(bot: Bot) -> None:
    credex = offer(ledger_of(bot), "alices_shop", CHIPO, "30.00")
    assert credex.due_date is not None
    chipo = await at_menu(bot, CHIPO)
    listed = await chipo.choose("decline")
    assert credex.credex_id in rows(listed) and "30.00 USD" in text_of(listed)
    confirm = await chipo.choose(credex.credex_id)
    assert "*30.00 USD* from *Alice's Shop*" in text_of(confirm)
    assert f"Unsecured credex, due {credex.due_date.isoformat()}" in text_of(confirm)
    assert "Nothing was changed" in text_of(await chipo.tap("no")) and credex.status is CredexStatus.PENDING


async def test_alice_cancels_her_offer_to_bob(bot: Bot) -> None:
    ledger = ledger_of(bot)
    credex = offer(ledger, ALICE, BOB, "25.00")
    alice = await at_menu(bot, ALICE)
    listed = await alice.choose("cancel")
    assert rows(listed) == [credex.credex_id, "menu"]  # Alice's Shop's offer belongs to another account
    confirm = await alice.choose(credex.credex_id)
    assert "Cancel your offer?" in text_of(confirm) and "to *Demo Bob Personal*" in text_of(confirm)
    assert "Cancel offer" in text_of(confirm) and "Keep it" in text_of(confirm)
    done = await alice.tap("yes")
    assert "You cancelled your offer of *25.00 USD* to *Demo Bob Personal*" in text_of(done)
    assert "no pending offers to cancel" in text_of(done) and is_menu(done)
    assert credex.status is CredexStatus.CANCELLED and writes(bot)["/cancelCredex"] == 1
    alices = ledger.account_by_handle(ALICE)
    assert ledger.available_secured(alices, "USD") == usd(ledger, ALICE)  # no longer held for the offer
    bob = await at_menu(bot, BOB)
    assert "accept" not in rows(await bob.say("menu"))


@pytest.mark.parametrize(("phone", "action", "verb"), [(BOB, "accept", "Accept"), (BOB, "decline", "Decline offer")])
async def test_wrong_inputs_and_cancel_change_nothing(bot: Bot, phone: str, action: str, verb: str) -> None:
    ledger = ledger_of(bot)
    credex = offer(ledger, ALICE, BOB, "25.00")
    await _wrong_then_keep(bot, await at_menu(bot, phone), action, verb, credex)


async def test_wrong_inputs_and_keep_when_cancelling(bot: Bot) -> None:
    credex = offer(ledger_of(bot), BOB, CHIPO, "5.00")
    await _wrong_then_keep(bot, await at_menu(bot, BOB), "cancel", "Cancel offer", credex)


async def _wrong_then_keep(bot: Bot, person: Person, action: str, verb: str, credex: Credex) -> None:
    await person.choose(action)
    for wrong, why in (
        ("banana", "Please choose an offer from the list"),
        ("more", "All the offers are in the list already"),
    ):
        answer = await person.say(wrong)
        assert why in text_of(answer), wrong
        assert rows(answer) == [credex.credex_id, "menu"]  # the same list again
    await person.choose(credex.credex_id)
    for wrong in ("maybe", "later"):
        answer = await person.say(wrong)
        assert f"Please tap *{verb}*" in text_of(answer) and buttons(answer) == ["yes", "no"]
    kept = await person.tap("no")
    assert "Nothing was changed" in text_of(kept) and "still pending" in text_of(kept)
    assert rows(kept) == [credex.credex_id, "menu"]  # back at the list
    stale = await person.choose(str(uuid.uuid4()))  # a row of a list that is out of date
    assert "That offer is no longer pending" in text_of(stale) and rows(stale) == [credex.credex_id, "menu"]
    assert credex.status is CredexStatus.PENDING
    assert writes(bot) == dict.fromkeys(WRITES, 0)
    assert is_menu(await person.choose("menu"))


async def test_a_repeated_confirmation_accepts_once(bot: Bot) -> None:
    ledger = ledger_of(bot)
    credex = offer(ledger, ALICE, BOB, "25.00")
    bob = await at_menu(bot, BOB)
    await bob.choose("accept")
    await bob.choose(credex.credex_id)
    confirming = reply_message(BOB, bob.current["yes"])
    assert (await bot.send(confirming)).status_code == 200
    first = await bob.read()
    assert "You accepted" in text_of(first)
    assert (await bot.send(confirming)).status_code == 200  # Meta delivers the same wamid again
    assert await bob.read() == []  # handled before: no effect, no reply
    assert writes(bot)["/acceptCredex"] == 1 and usd(ledger, BOB) == Decimal("65.00")


async def test_an_offer_withdrawn_before_the_answer_is_explained(bot: Bot) -> None:
    ledger = ledger_of(bot)
    [extra] = make_offers(ledger, CHIPO, BOB, 1, "2.00")
    alices = offer(ledger, ALICE, BOB, "25.00")
    bob = await at_menu(bot, BOB)
    await bob.choose("accept")
    await bob.choose(alices.credex_id)
    alice = await at_menu(bot, ALICE)  # Alice withdraws it through her own chat meanwhile
    await alice.choose("cancel")
    await alice.choose(alices.credex_id)
    assert "You cancelled" in text_of(await alice.tap("yes"))
    answer = await bob.tap("yes")
    assert "no longer pending" in text_of(answer) and "nothing was changed" in text_of(answer)
    assert rows(answer) == [extra, "menu"]  # the list, reloaded
    assert alices.status is CredexStatus.CANCELLED and usd(ledger, BOB) == Decimal("40.00")
    assert writes(bot)["/acceptCredex"] == 1


async def test_a_declined_offer_settled_in_credex_core_is_explained(bot: Bot) -> None:
    ledger = ledger_of(bot)
    credex = offer(ledger, ALICE, BOB, "25.00")
    bob = await at_menu(bot, BOB)
    await bob.choose("decline")
    await bob.choose(credex.credex_id)
    cancel_credex(ledger, ledger.member_by_phone(ALICE), credex.credex_id)  # straight in credex-core
    answer = await bob.tap("yes")
    assert "no longer pending" in text_of(answer) and "already been processed" in text_of(answer)
    assert "No offers are waiting" in text_of(answer) and is_menu(answer)
    assert credex.status is CredexStatus.CANCELLED


async def test_chipo_accepts_all(bot: Bot) -> None:
    ledger = ledger_of(bot)
    secured = offer(ledger, BOB, CHIPO, "5.00")
    unsecured = offer(ledger, "alices_shop", CHIPO, "30.00")
    chipo_before = usd(ledger, CHIPO)
    chipo = await at_menu(bot, CHIPO)
    confirm = await chipo.choose("accept_all")
    shown = text_of(confirm)
    assert "Accept all 2 offers" in shown and "*Total*: 35.00 USD" in shown
    assert "(secured credex)" in shown and "(unsecured credex, due " in shown and buttons(confirm) == ["yes", "no"]
    for wrong in ("perhaps", "3"):
        assert "Please tap *Accept all*" in text_of(await chipo.say(wrong))
    done = await chipo.tap("yes")
    assert "Accepted 2 of 2 offers" in text_of(done) and is_menu(done)
    assert secured.status is CredexStatus.ACCEPTED and unsecured.status is CredexStatus.ACCEPTED
    assert usd(ledger, CHIPO) == chipo_before + Decimal("5.00")  # the unsecured one moves no secured balance
    assert writes(bot) == {"/acceptCredex": 0, "/declineCredex": 0, "/cancelCredex": 0, "/acceptCredexBulk": 1}


async def test_cancel_at_accept_all_accepts_nothing(bot: Bot) -> None:
    ledger = ledger_of(bot)
    chipo = await at_menu(bot, CHIPO)
    await chipo.choose("accept_all")
    kept = await chipo.tap("no")
    assert "Nothing was accepted" in text_of(kept) and is_menu(kept)
    assert offer(ledger, BOB, CHIPO, "5.00").status is CredexStatus.PENDING
    assert writes(bot) == dict.fromkeys(WRITES, 0)


async def test_accept_all_reports_an_offer_withdrawn_meanwhile(bot: Bot) -> None:
    ledger = ledger_of(bot)
    gone = offer(ledger, BOB, CHIPO, "5.00")
    chipo = await at_menu(bot, CHIPO)
    await chipo.choose("accept_all")
    cancel_credex(ledger, ledger.member_by_phone(BOB), gone.credex_id)
    done = await chipo.tap("yes")
    assert "Accepted 1 of 2 offers" in text_of(done)
    assert "*5.00 USD* from *Demo Bob Personal* was not accepted" in text_of(done)
    assert gone.status is CredexStatus.CANCELLED and writes(bot)["/acceptCredexBulk"] == 1


async def test_more_row_pages_through_many_offers(bot: Bot) -> None:
    ledger = ledger_of(bot)
    made = make_offers(ledger, ALICE, BOB, 10)
    total = 11  # with the seed's 25.00 from Alice
    bob = await at_menu(bot, BOB)
    first = await bob.choose("accept")
    assert len(rows(first)) == 10 and rows(first)[-2:] == ["more", "menu"]
    assert "page 1 of 2" in text_of(first)
    second = await bob.choose("more")
    assert len(rows(second)) == total - PAGE_SIZE + 2 and rows(second)[-2:] == ["more", "menu"]
    assert "page 2 of 2" in text_of(second)
    assert not set(rows(first)[:-2]) & set(rows(second)[:-2])  # every offer once
    assert rows(await bob.choose("more")) == rows(first)  # round to the first page
    await bob.choose("more")
    last = made[-1]
    assert last in rows(second)
    await bob.choose(last)
    done = await bob.tap("yes")
    assert "You accepted the offer of *1.00 USD*" in text_of(done)
    assert len(rows(done)) == 10 and last not in rows(done)  # the list again, from its first page
    assert ledger.credexes[last].status is CredexStatus.ACCEPTED and writes(bot)["/acceptCredex"] == 1


async def test_three_wrong_choices_lead_to_the_menu(bot: Bot) -> None:
    bob = await at_menu(bot, BOB)
    await bob.choose("accept")
    await bob.say("x")
    await bob.say("y")
    answer = await bob.say("z")
    assert "didn't work 3 times" in text_of(answer) and is_menu(answer)


async def test_an_unconfirmed_answer_is_reported_and_not_retried(bot: Bot) -> None:
    credex = offer(ledger_of(bot), ALICE, BOB, "25.00")
    sandbox(bot).inject_failure("/acceptCredex", 500)
    bob = await at_menu(bot, BOB)
    await bob.choose("accept")
    await bob.choose(credex.credex_id)
    answer = await bob.tap("yes")
    assert "could not confirm" in text_of(answer) and is_menu(answer)
    assert writes(bot)["/acceptCredex"] == 1 and credex.status is CredexStatus.PENDING
