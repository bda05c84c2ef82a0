"""Tier upgrade, switching account, business members and opening a business account: webhook in, outbox out,
and what the credex sandbox holds afterwards."""

from __future__ import annotations

from typing import Any

from app.credex.sandbox_ledger import Ledger
from tests.flows_kit import ALICE, BOB, CHIPO, Person, buttons, rows, sandbox, text_of
from tests.webhook_kit import Bot

Messages = list[dict[str, Any]]


def ledger(bot: Bot) -> Ledger:
    result: Ledger = sandbox(bot).ledger
    return result


def calls(bot: Bot, path: str) -> int:
    return int(sandbox(bot).requests[path])


def member_id(bot: Bot, phone: str) -> str:
    return ledger(bot).member_by_phone(phone).member_id


async def menu_rows(person: Person) -> list[str]:
    """Every action the menu offers now, on both pages."""
    answer = await person.say("menu")
    found = rows(answer)
    if "more" in found:
        found += rows(await person.choose("more"))
    return found


async def open_action(person: Person, action: str) -> Messages:
    """Start a menu action, through 'More…' when the list had to be split."""
    answer = await person.say("menu")
    if action not in rows(answer):
        assert "more" in rows(answer), rows(answer)
        answer = await person.choose("more")
    assert action in rows(answer), rows(answer)
    return await person.choose(action)


async def switch_to(bot: Bot, person: Person, handle: str) -> Messages:
    await open_action(person, "switch")
    return await person.choose(ledger(bot).account_by_handle(handle).account_id)


async def authorize(bot: Bot, alice: Person, handle: str) -> Messages:
    await open_action(alice, "authorize")
    await alice.say(handle)
    return await alice.tap("yes")


# -- upgrade ---------------------------------------------------------------------------------------------


async def test_bob_upgrades_to_the_entrepreneur_tier(bot: Bot) -> None:
    bob = Person(bot, BOB)
    await bob.say("hi")
    assert "upgrade" in await menu_rows(bob)
    offer = await open_action(bob, "upgrade")
    assert buttons(offer) == ["yes", "no"]
    assert "1.00 USD every 28 days" in text_of(offer) and "Demo Bob Personal" in text_of(offer)
    for wrong in ("maybe", "upgrade me please"):
        again = await bob.say(wrong)
        assert "Please tap *Upgrade* or *Not now*" in text_of(again) and buttons(again) == ["yes", "no"]
    assert calls(bot, "/createRecurring") == 0
    done = await bob.tap("yes")
    assert "Entrepreneur tier" in text_of(done) and "Secured balances" in text_of(done)
    assert calls(bot, "/createRecurring") == 1
    bob_member = ledger(bot).member_by_phone(BOB)
    assert bob_member.tier == 3
    (subscription,) = ledger(bot).recurring.values()
    personal = ledger(bot).account_by_handle(BOB)
    assert subscription.source_account_id == personal.account_id
    assert subscription.template_type == "MEMBERTIER_SUBSCRIPTION" and subscription.pay_frequency == 28
    assert str(subscription.amount) == "1.00" and subscription.total_executions == 1
    after = await menu_rows(bob)
    assert "upgrade" not in after and "create_business" in after


async def test_cancelled_upgrade_creates_nothing(bot: Bot) -> None:
    bob = Person(bot, BOB)
    await bob.say("hi")
    await open_action(bob, "upgrade")
    answer = await bob.tap("no")
    assert "Nothing was created or changed" in text_of(answer) and "Secured balances" in text_of(answer)
    assert calls(bot, "/createRecurring") == 0
    assert ledger(bot).member_by_phone(BOB).tier == 1 and not ledger(bot).recurring


async def test_unconfirmed_upgrade_is_not_retried(bot: Bot) -> None:
    bob = Person(bot, BOB)
    await bob.say("hi")
    await open_action(bob, "upgrade")
    sandbox(bot).inject_failure("/createRecurring", 500)
    answer = await bob.tap("yes")
    assert "could not confirm" in text_of(answer) and "Secured balances" in text_of(answer)
    assert calls(bot, "/createRecurring") == 1
    assert ledger(bot).member_by_phone(BOB).tier == 1


# -- switch account --------------------------------------------------------------------------------------


async def test_alice_switches_between_her_accounts(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    first = await alice.say("hi")
    assert "*Demo Alice Personal*" in text_of(first)
    shop = ledger(bot).account_by_handle("alices_shop").account_id
    personal = ledger(bot).account_by_handle(ALICE).account_id
    listed = await open_action(alice, "switch")
    assert rows(listed) == [personal, shop, "back"]
    assert "acting now" in str(listed)
    for wrong in ("Narnia Bank", "7"):
        again = await alice.say(wrong)
        assert "You have no account" in text_of(again) and rows(again) == [personal, shop, "back"]
    switched = await alice.choose(shop)
    assert "*Alice's Shop*" in text_of(switched) and "250.00 USD" in text_of(switched)
    assert "authorize" in await menu_rows(alice)
    await open_action(alice, "switch")
    back = await alice.say(f"@{ALICE}")  # a typed handle works as well as the row
    assert "*Demo Alice Personal*" in text_of(back)
    await open_action(alice, "switch")
    assert "*Demo Alice Personal*" in text_of(await alice.choose("back"))


# -- authorize / remove / send offers to -----------------------------------------------------------------


async def test_alice_authorizes_bob_on_her_shop(bot: Bot) -> None:
    alice, bob = Person(bot, ALICE), Person(bot, BOB)
    await alice.say("hi")
    await switch_to(bot, alice, "alices_shop")
    ask = await open_action(alice, "authorize")
    assert "handle" in text_of(ask) and "Alice's Shop" in text_of(ask)
    assert "3 to 30 characters" in text_of(await alice.say("ab"))
    assert "letters, digits and underscores" in text_of(await alice.say("bob smith"))
    unknown = await alice.say("nobody_here")
    assert "No member has the handle *@nobody_here*" in text_of(unknown) and "handle" in text_of(unknown)
    assert "That is you" in text_of(await alice.say(ALICE))
    confirm = await alice.say(f"@{BOB}")
    assert buttons(confirm) == ["yes", "no"] and "Demo Bob" in text_of(confirm)
    assert "Please tap *Authorize* or *Not now*" in text_of(await alice.say("perhaps"))
    assert calls(bot, "/authorizeForAccount") == 0
    done = await alice.tap("yes")
    assert "can now act for *Alice's Shop*" in text_of(done) and "Secured balances" in text_of(done)
    assert calls(bot, "/authorizeForAccount") == 1
    shop = ledger(bot).account_by_handle("alices_shop")
    assert member_id(bot, BOB) in shop.authorized
    await bob.say("hi")  # Bob now has two accounts and can act for the shop
    assert "*Alice's Shop*" in text_of(await switch_to(bot, bob, "alices_shop"))


async def test_three_unknown_handles_lead_back_to_the_menu(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await switch_to(bot, alice, "alices_shop")
    await open_action(alice, "authorize")
    await alice.say("nobody_one")
    await alice.say("nobody_two")
    answer = await alice.say("nobody_three")
    assert "didn't work 3 times" in text_of(answer) and "Secured balances" in text_of(answer)
    assert calls(bot, "/authorizeForAccount") == 0


async def test_alice_removes_a_member_by_handle(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await switch_to(bot, alice, "alices_shop")
    await authorize(bot, alice, BOB)
    shop = ledger(bot).account_by_handle("alices_shop")
    assert member_id(bot, BOB) in shop.authorized
    ask = await open_action(alice, "deauthorize")
    assert "no longer act for *Alice's Shop*" in text_of(ask)  # nobody the dashboard names: type a handle
    assert "3 to 30 characters" in text_of(await alice.say("x"))
    assert "letters, digits and underscores" in text_of(await alice.say("bob!"))
    assert "No member has the handle" in text_of(await alice.say("nobody_here"))
    assert "owner cannot be removed" in text_of(await alice.say(ALICE))
    confirm = await alice.say(CHIPO)  # a member, but not one authorized on the shop
    assert buttons(confirm) == ["yes", "no"] and "Demo Chipo" in text_of(confirm)
    refused = await alice.tap("yes")
    assert "not authorized for this account" in text_of(refused) and "no longer act" in text_of(refused)
    assert calls(bot, "/unauthorizeForAccount") == 1
    await alice.say(BOB)
    assert "Please tap *Remove* or *Not now*" in text_of(await alice.say("hmm"))
    done = await alice.tap("yes")
    assert "can no longer act for *Alice's Shop*" in text_of(done)
    assert calls(bot, "/unauthorizeForAccount") == 2
    assert member_id(bot, BOB) not in ledger(bot).account_by_handle("alices_shop").authorized


async def test_offers_go_to_an_authorized_member(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await switch_to(bot, alice, "alices_shop")
    await authorize(bot, alice, BOB)
    shop = ledger(bot).account_by_handle("alices_shop")
    listed = await open_action(alice, "send_offers_to")
    assert rows(listed) == ["me", "other", "back"]
    assert "3 to 30 characters" in text_of(await alice.say("zz"))
    assert "Or choose from the list" in text_of(await alice.say("no way!"))
    ask = await alice.choose("other")
    assert "authorized member" in text_of(ask)
    assert "3 to 30 characters" in text_of(await alice.say("b"))
    assert "letters, digits and underscores" in text_of(await alice.say("@@chipo?"))
    confirm = await alice.say(CHIPO)
    assert "Demo Chipo" in text_of(confirm) and buttons(confirm) == ["yes", "no"]
    refused = await alice.tap("yes")  # Chipo is not authorized: credex-core refuses, the list is asked again
    assert "verify the member is authorized" in text_of(refused) and "Authorize them first" in text_of(refused)
    assert rows(refused) == ["me", "other", "back"]
    assert calls(bot, "/updateSendOffersTo") == 1 and shop.send_offers_to == member_id(bot, ALICE)
    await alice.say(BOB)  # a handle typed at the list is looked up too
    done = await alice.tap("yes")
    assert "now go to *Demo Bob*" in text_of(done)
    assert calls(bot, "/updateSendOffersTo") == 2 and shop.send_offers_to == member_id(bot, BOB)
    again = await open_action(alice, "send_offers_to")
    assert rows(again) == ["me", "current", "other", "back"] and "Demo Bob" in text_of(again)
    await alice.choose("me")
    cancelled = await alice.tap("no")
    assert "Nothing was created or changed" in text_of(cancelled)
    assert calls(bot, "/updateSendOffersTo") == 2 and shop.send_offers_to == member_id(bot, BOB)
    removal = await open_action(alice, "deauthorize")  # the current recipient is offered for removal
    assert rows(removal) == ["current", "back"]
    await alice.choose("current")
    await alice.tap("yes")
    assert member_id(bot, BOB) not in shop.authorized and shop.send_offers_to == member_id(bot, ALICE)


async def test_cancelled_member_changes_write_nothing(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await switch_to(bot, alice, "alices_shop")
    await open_action(alice, "authorize")
    await alice.say(BOB)
    assert "Nothing was created or changed" in text_of(await alice.tap("no"))
    await open_action(alice, "deauthorize")
    await alice.say(CHIPO)
    assert "Nothing was created or changed" in text_of(await alice.tap("no"))
    for path in ("/authorizeForAccount", "/unauthorizeForAccount", "/updateSendOffersTo"):
        assert calls(bot, path) == 0
    assert ledger(bot).account_by_handle("alices_shop").authorized == [member_id(bot, ALICE)]


# -- business account ------------------------------------------------------------------------------------


async def test_alice_opens_a_business_account_and_switches_to_it(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    assert "name of the business" in text_of(await open_action(alice, "create_business"))
    assert "3 to 50 characters" in text_of(await alice.say("A"))
    assert "may contain letters" in text_of(await alice.say("$$$ !!!"))
    ask = await alice.say("Alice's   Bakery")
    assert "*alices_bakery*" in text_of(ask)
    assert "letters, digits and underscores" in text_of(await alice.say("my bakery"))
    assert "3 to 30 characters" in text_of(await alice.say("ab"))
    taken = await alice.say("alices_shop")
    assert "*@alices_shop* is taken" in text_of(taken) and "Choose a *handle*" in text_of(taken)
    confirm = await alice.say("@Alices_Bakery")
    assert buttons(confirm) == ["yes", "no"]
    assert "*Alice's Bakery* (@alices_bakery)" in text_of(confirm) and "USD" in text_of(confirm)
    assert "Please tap *Create* or *Not now*" in text_of(await alice.say("later"))
    assert calls(bot, "/createAccount") == 0
    done = await alice.tap("yes")
    assert "*Alice's Bakery* is open" in text_of(done) and "Secured balances" in text_of(done)
    assert calls(bot, "/createAccount") == 1
    bakery = ledger(bot).account_by_handle("alices_bakery")
    assert bakery.name == "Alice's Bakery" and bakery.account_type == "BUSINESS"
    assert bakery.owner_id == member_id(bot, ALICE) and bakery.default_denom == "USD"
    listed = await open_action(alice, "switch")
    assert bakery.account_id in rows(listed) and len(rows(listed)) == 4
    switched = await alice.choose(bakery.account_id)
    assert "*Alice's Bakery*" in text_of(switched) and "authorize" in await menu_rows(alice)


async def test_upgraded_bob_opens_his_first_business_account(bot: Bot) -> None:
    bob = Person(bot, BOB)
    await bob.say("hi")
    await open_action(bob, "upgrade")
    await bob.tap("yes")
    assert "switch" not in await menu_rows(bob)
    await open_action(bob, "create_business")
    await bob.say("Bob's Garage")
    await bob.say("bobs_garage")
    await bob.tap("yes")
    garage = ledger(bot).account_by_handle("bobs_garage")
    assert garage.owner_id == member_id(bot, BOB)
    assert "switch" in await menu_rows(bob)
    assert "*Bob's Garage*" in text_of(await switch_to(bot, bob, "bobs_garage"))


async def test_business_name_too_long_and_handle_taken_meanwhile(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    await open_action(alice, "create_business")
    assert "3 to 50 characters" in text_of(await alice.say("x" * 51))
    await alice.say("Alice Fresh Produce")
    await alice.say("alice_fresh")
    owner = ledger(bot).member_by_phone(CHIPO)
    ledger(bot).add_account(owner, "Someone Else", "alice_fresh", "BUSINESS", "USD")  # taken before Confirm
    answer = await alice.tap("yes")
    assert "already in use" in text_of(answer) and "Choose a *handle*" in text_of(answer)
    assert calls(bot, "/createAccount") == 1
    await alice.say("alice_fresh_2")
    assert "is open" in text_of(await alice.tap("yes"))
    assert calls(bot, "/createAccount") == 2
    assert ledger(bot).account_by_handle("alice_fresh_2").owner_id == member_id(bot, ALICE)


async def test_cancelled_business_account_creates_nothing(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    await alice.say("hi")
    accounts = len(ledger(bot).accounts)
    await open_action(alice, "create_business")
    await alice.say("Alice Crafts")
    await alice.say("alice_crafts")
    answer = await alice.tap("no")
    assert "Nothing was created or changed" in text_of(answer) and "Secured balances" in text_of(answer)
    assert calls(bot, "/createAccount") == 0 and len(ledger(bot).accounts) == accounts


async def test_upgrade_refused_for_lack_of_secured_balance(bot: Bot) -> None:
    bob = Person(bot, BOB)
    await bob.say("hi")
    ledger(bot).account_by_handle(BOB).secured["USD"] = ledger(bot).reserved(ledger(bot).account_by_handle(BOB), "USD")
    await open_action(bob, "upgrade")
    answer = await bob.tap("yes")
    assert "cannot cover the 1.00 USD subscription" in text_of(answer) and "Secured balances" in text_of(answer)
    assert calls(bot, "/createRecurring") == 1 and ledger(bot).member_by_phone(BOB).tier == 1
