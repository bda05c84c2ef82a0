"""The simulator page in real headless Chromium, against the real service served by uvicorn on a free port.

Needs Debian's `chromium` (/usr/bin/chromium) and Python Playwright (`pip install playwright`; its own browser
download is never used). Without them the tests skip, except with CI=true, where they fail.
Set SIMULATOR_SCREENSHOT=docs/simulator.png to refresh the README's screenshot.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import pytest
import uvicorn

from app.config import Settings
from app.main import create_app
from tests.conftest import IN_CI, REPO, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOB = "263770000002"
ALICE = "263770000001"
WAIT_S = 15.0


def _missing(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI=true: {reason}; the browser tests must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The real app (development, embedded state, outbox replies) under uvicorn in a background thread."""
    port = free_port()
    settings = Settings(app_env="development", host="127.0.0.1", port=port, redis_url=None, whatsapp_access_token=None)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="simulator-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Python playwright missing (pip install playwright; never `playwright install`)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/simulator")
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


class Pane:
    """One phone's pane on the page: send text, tap buttons and list rows, wait for the bot's next bubble."""

    def __init__(self, page: Any, phone: str) -> None:
        self.page = page
        self.phone = phone
        self.root = page.get_by_test_id(f"pane-{phone}")

    def settle(self, quiet_s: float = 1.0) -> None:
        """Wait until the pane has loaded the number's earlier replies (its poll finds nothing new for a while),
        so a later `say` only matches bubbles that answer it."""
        deadline = time.monotonic() + WAIT_S
        count, since = len(self.bot_texts()), time.monotonic()
        while time.monotonic() - since < quiet_s and time.monotonic() < deadline:
            time.sleep(0.1)
            now = len(self.bot_texts())
            if now != count:
                count, since = now, time.monotonic()

    def bot_texts(self) -> list[str]:
        return [str(t) for t in self.root.get_by_test_id("bubble-bot").all_inner_texts()]

    def _after(self, action: Any, expect: str) -> str:
        """Run `action`, then wait for a new bot bubble matching `expect` (regex); returns that bubble's text."""
        seen = len(self.bot_texts())
        action()
        pattern = re.compile(expect, re.IGNORECASE)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            new = self.bot_texts()[seen:]
            for text in new:
                if pattern.search(text):
                    return text
            time.sleep(0.1)
        raise AssertionError(f"+{self.phone}: no reply matching {expect!r}; got {self.bot_texts()[seen:]}")

    def say(self, text: str, expect: str) -> str:
        def act() -> None:
            self.page.get_by_test_id(f"composer-{self.phone}").fill(text)
            self.page.get_by_test_id(f"send-{self.phone}").click()

        return self._after(act, expect)

    def tap(self, title: str, expect: str) -> str:
        button = self.root.get_by_test_id("reply-button").filter(has_text=re.compile(title, re.IGNORECASE)).last
        return self._after(button.click, expect)

    def open_list(self) -> Any:
        self.root.get_by_test_id("list-open").last.click()
        sheet = self.page.get_by_test_id(f"list-sheet-{self.phone}")
        sheet.wait_for(state="visible")
        return sheet

    def choose(self, expect: str, *, row_id: str | None = None, title: str | re.Pattern[str] | None = None) -> str:
        sheet = self.open_list()
        rows = sheet.get_by_test_id("list-row")
        row = rows.and_(self.page.locator(f'[data-row-id="{row_id}"]')) if row_id else rows.filter(has_text=title)
        return self._after(row.first.click, expect)


def open_pane(page: Any, phone: str | None = None) -> Pane:
    if phone is None:
        page.get_by_test_id("new-number").click()
        phone = str(page.get_by_test_id("phone-input").input_value())
    elif page.get_by_test_id(f"pick-{phone}").count():
        page.get_by_test_id(f"pick-{phone}").click()
    else:
        page.get_by_test_id("phone-input").fill(phone)
        page.get_by_test_id("open-chat").click()
    pane = Pane(page, phone)
    pane.root.wait_for(state="visible")
    pane.settle()
    return pane


def usd_balance(dashboard: str) -> Decimal:
    """The secured USD balance on a dashboard bubble (the first amount in USD after 'Secured balances')."""
    section = dashboard.split("Secured balances", 1)[1]
    match = re.search(r"([0-9][0-9,]*\.[0-9]+) USD", section)
    assert match is not None, dashboard
    return Decimal(match[1].replace(",", ""))


def screenshot(page: Any, tmp_path: Path) -> None:
    target = os.environ.get("SIMULATOR_SCREENSHOT")
    path = (REPO / target) if target else tmp_path / "simulator.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


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
    me.root.get_by_test_id("list-close").click()
    alice = open_pane(page, ALICE)
    alice.say("hi", expect="Secured balances")
    assert alice.open_list().get_by_test_id("list-row").count() >= 3
    assert page.get_by_test_id("bubble-bot").count() >= 6


def test_offer_from_one_pane_and_accept_in_the_other(page: Any, tmp_path: Path) -> None:
    """Alice offers 5 USD secured to Bob with the shortcut; Bob accepts from his menu; both dashboards move by 5."""
    alice, bob = open_pane(page, ALICE), open_pane(page, BOB)
    alice_before = usd_balance(alice.say("menu", expect="Secured balances"))
    bob_before = usd_balance(bob.say("menu", expect="Secured balances"))

    alice.say(f"5=>{BOB}", expect=r"Please confirm.*secured")
    alice.tap("^Sign and send$", expect=r"offer of 5\.00 USD was sent to")

    bob.say("menu", expect="What would you like")
    bob.choose(r"Offers waiting for your answer", row_id="accept")
    stranger = open_pane(page)
    stranger.say("hi", expect="Welcome to VimbisoPay")
    bob.open_list()
    screenshot(page, tmp_path)  # mid-conversation: Alice's sent offer, Bob's pending offers, a stranger welcomed
    bob.root.get_by_test_id("list-close").click()
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
