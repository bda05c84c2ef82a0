"""The ledger: pages of settled credex and one entry opened, through the real webhook and the credex sandbox."""

from __future__ import annotations

from app.components.ledger import EMPTY, PAGE_SIZE
from app.credex.sandbox_ledger import Ledger
from app.credex.sandbox_offers import settled
from app.flows.registry import REGISTRY
from tests.flows_kit import ALICE, BOB, Person, rows, sandbox, text_of
from tests.webhook_kit import Bot

STRANGER = "263779990077"


def ledger_of(bot: Bot) -> Ledger:
    ledger: Ledger = sandbox(bot).ledger
    return ledger


def pages(bot: Bot, handle: str) -> list[list[str]]:
    """The account's settled credex ids as credex-core pages them, newest first."""
    ids = [c.credex_id for c in settled(ledger_of(bot), ledger_of(bot).account_by_handle(handle))]
    return [ids[n : n + PAGE_SIZE] for n in range(0, len(ids), PAGE_SIZE)]


async def at_menu(bot: Bot, phone: str) -> Person:
    person = Person(bot, phone)
    assert (await person.say("hi"))[-1]["kind"] == "list"
    return person


def test_ledger_entry_exists() -> None:
    assert REGISTRY.step("ledger", "load") is not None and REGISTRY.flows["ledger"].trigger


async def test_alice_pages_through_twelve_entries(bot: Bot) -> None:
    expected = pages(bot, ALICE)
    assert [len(p) for p in expected] == [5, 5, 2]  # the seed's 12 settled credex
    alice = await at_menu(bot, ALICE)
    first = await alice.choose("ledger")
    assert rows(first) == [*expected[0], "next", "menu"] and "page 1" in text_of(first)
    assert "-5.00 USD" in text_of(first) or "+3.00 USD" in text_of(first)
    for wrong, why in (("previous", "first page"), ("banana", "Please choose an entry")):
        answer = await alice.say(wrong)
        assert why in text_of(answer) and rows(answer) == rows(first)
    second = await alice.choose("next")
    assert rows(second) == [*expected[1], "previous", "next", "menu"] and "page 2" in text_of(second)
    third = await alice.choose("next")
    assert rows(third) == [*expected[2], "previous", "menu"] and "page 3" in text_of(third)
    for wrong, why in (("next", "last page"), ("00000000-0000-0000-0000-000000000000", "Please choose an entry")):
        answer = await alice.say(wrong)
        assert why in text_of(answer) and rows(answer) == rows(third)
    back = await alice.choose("previous")
    assert rows(back) == rows(second)
    assert rows(await alice.say("Prev")) == rows(first)
    assert sandbox(bot).requests["/getLedger"] == 5
    menu = await alice.choose("menu")
    assert "Secured balances" in text_of(menu)


async def test_opening_an_entry_returns_to_the_same_page(bot: Bot) -> None:
    alice = await at_menu(bot, ALICE)
    await alice.choose("ledger")
    second = await alice.choose("next")
    chosen = pages(bot, ALICE)[1][2]
    credex = ledger_of(bot).credexes[chosen]
    reads = sandbox(bot).requests["/getLedger"]
    opened = await alice.choose(chosen)
    shown = text_of(opened)
    assert "*Credex details*" in shown and chosen not in shown  # in words, never a raw id
    paid = credex.issuer_account_id == ledger_of(bot).account_by_handle(ALICE).account_id
    amount = f"{credex.amount:.2f} USD"
    said = f"You paid Demo Chipo Personal {amount}" if paid else f"Demo Chipo Personal paid you {amount}"
    assert f"{said}, secured." in shown
    assert rows(opened) == rows(second)  # the same page again, without another read
    assert sandbox(bot).requests["/getCredex"] == 1 and sandbox(bot).requests["/getLedger"] == reads


async def test_bobs_unsecured_entry_shows_its_due_date(bot: Bot) -> None:
    [[entry]] = pages(bot, BOB)
    credex = ledger_of(bot).credexes[entry]
    bob = await at_menu(bot, BOB)
    listed = await bob.choose("ledger")
    assert rows(listed) == [entry, "menu"] and "+20.00 USD" in text_of(listed)
    opened = await bob.choose(entry)
    assert credex.due_date is not None
    due = credex.due_date
    when = f"{due.day} {due.strftime('%b')} {due.year}"
    assert f"owes you 20.00 USD, due {when}." in text_of(opened) and entry not in text_of(opened)


async def test_an_empty_ledger_says_so_and_offers_the_menu(bot: Bot) -> None:
    ledger_of(bot).add_member(STRANGER, "Tendai", "Moyo", "USD")
    person = await at_menu(bot, STRANGER)
    answer = await person.choose("ledger")
    assert EMPTY in text_of(answer)
    assert "Secured balances" in text_of(answer) and "ledger" in rows(answer)
    assert sandbox(bot).requests["/getLedger"] == 1
