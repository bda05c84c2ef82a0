"""The simulator's conversations in real headless Chromium: sign up, offer from one pane and accept in another, the
terminal chat against the same running server. (tests/simulator_kit.py starts the app and drives the page.)

Set SIMULATOR_SCREENSHOT=docs/simulator.png to refresh the README's screenshot (test_simulator_page.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from typing import Any

from tests import simulator_kit as kit
from tests.conftest import REPO
from tests.simulator_kit import ALICE, BOB, open_pane, usd_balance

server, browser, page = kit.server, kit.browser, kit.page  # the fixtures, for this module


def test_new_member_signs_up_in_the_page(page: Any) -> None:
    me = open_pane(page)
    assert re.fullmatch(r"2637799[0-9]{5}", me.phone)
    me.say("hi", expect="Welcome to VimbisoPay")
    assert page.get_by_test_id("bubble-me").filter(has_text="hi").count() == 1
    me.tap("Become a member", expect="first name")
    me.say("Tendai", expect="last name")
    me.say("Moyo", expect=r"registered as \*?Tendai Moyo")
    done = me._after(lambda: me.tap("Yes, register me", expect="Welcome, Tendai"), expect="Secured balances")
    assert "none yet" in done or usd_balance(done) == 0
    sheet = me.open_list()
    assert sheet.get_by_test_id("list-row").filter(has_text="Offer secured credex").count() == 1
    assert sheet.locator('[data-row-id="offer_secured"]').count() == 1
    me.root.get_by_test_id("sheet-close").click()
    alice = open_pane(page, ALICE)
    alice.say("hi", expect="Secured balances")
    assert alice.open_list().get_by_test_id("list-row").count() >= 3
    assert page.get_by_test_id("bubble-bot").count() >= 6


def test_offer_from_one_pane_and_accept_in_the_other(page: Any) -> None:
    """Alice offers 5 USD secured to Bob with the shortcut; Bob accepts from his menu; both dashboards move by 5."""
    alice, bob = open_pane(page, ALICE), open_pane(page, BOB)
    alice_before = usd_balance(alice.say("menu", expect="Secured balances"))
    bob_before = usd_balance(bob.say("menu", expect="Secured balances"))

    alice.say(f"5=>{BOB}", expect=r"Please confirm.*secured")
    alice.tap("^Sign and send$", expect=r"offer of 5\.00 USD was sent to")

    bob.say("menu", expect="What would you like")
    bob.choose(r"Offers waiting for your answer", row_id="accept")
    confirm = bob.choose(r"5\.00 USD", title=re.compile(r"(?<![0-9.])5\.00 USD"))
    assert "Alice" in confirm
    bob.tap("^Accept$", expect=r"You accepted the offer of 5\.00 USD")

    bob_after = usd_balance(bob.say("menu", expect="Secured balances"))
    alice_after = usd_balance(alice.say("menu", expect="Secured balances"))
    assert bob_after == bob_before + 5
    assert alice_after == alice_before - 5


def test_terminal_chat_against_the_running_server(server: str) -> None:
    """`python -m app.chat --once` over real HTTP: a new number is welcomed and can tap by number."""
    result = subprocess.run(
        [sys.executable, "-m", "app.chat", "--phone", "263779990777", "--url", server, "--once", "hi", "--once", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[1] Become a member" in result.stdout and "first name" in result.stdout


def net_assets(dashboard: str) -> Decimal:
    match = re.search(r"Net assets\s+(-?[0-9][0-9,]*\.[0-9]+) USD", dashboard)
    assert match is not None, dashboard
    return Decimal(match[1].replace(",", ""))


def test_new_member_offers_to_a_demo_member_who_accepts(page: Any) -> None:
    """The issue's scenario: sign up, offer credex to a demo member (unsecured: a new member has no secured
    balance yet), switch to that member's number, accept, and read the balances both dashboards show."""
    me = open_pane(page)
    me.say("hi", expect="Welcome to VimbisoPay")
    me.tap("Become a member", expect="first name")
    me.say("Rudo", expect="last name")
    me.say("Chikore", expect=r"registered as \*?Rudo Chikore")
    mine = me._after(lambda: me.tap("Yes, register me", expect="Welcome, Rudo"), expect="Secured balances")
    assert net_assets(mine) == 0
    me.choose("How much", row_id="offer_unsecured")
    me.say("5", expect="Who is the offer for")
    me.say(BOB, expect="When will you pay")
    me.tap("Default", expect=r"Please confirm.*unsecured")
    me.tap("^Sign and send$", expect=r"unsecured offer of 5\.00 USD was sent to Demo Bob")

    bob = open_pane(page, BOB)
    bob_before = net_assets(bob.say("menu", expect="Secured balances"))
    bob.settle()
    bob.choose(r"Offers waiting for your answer", row_id="accept")
    confirm = bob.choose("Rudo", title=re.compile("Rudo"))
    assert "5.00 USD" in confirm and "Unsecured" in confirm
    bob.tap("^Accept$", expect=r"You accepted the offer of 5\.00 USD from Rudo")

    bob.settle()  # the replies that follow the acceptance have all arrived before the dashboard is read
    bob_after = bob.say("menu", expect="Secured balances")
    assert net_assets(bob_after) == bob_before + 5
    me.settle()
    mine_after = me.say("menu", expect="Secured balances")
    assert net_assets(mine_after) == -5 and "you owe 5.00 USD" in mine_after
