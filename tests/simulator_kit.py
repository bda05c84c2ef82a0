"""Driving the simulator page in real headless Chromium, against the real service served by uvicorn on a free port.

Needs Debian's `chromium` (/usr/bin/chromium) and Python Playwright (`pip install playwright`; its own browser
download is never used). Without them the tests skip, except with CI=true, where they fail. Test modules import
the fixtures (`server`, `browser`, `page`) and drive a phone's pane with `Pane`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from app.config import Settings
from app.credex.wiring import SANDBOX_KEY
from app.main import create_app
from tests.conftest import IN_CI, REPO
from tests.in_thread import served

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
    settings = Settings(app_env="development", host="127.0.0.1", redis_url=None, whatsapp_access_token=None)
    with served(create_app(settings), start_s=20, stop_s=10, log_level="warning", lifespan="on") as url:
        yield url


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


@contextmanager
def new_page(browser: Any, server: str, **context_options: Any) -> Iterator[Any]:
    """A fresh browser context (its own localStorage) on the simulator; fails the test on any JavaScript error."""
    context = browser.new_context(**context_options)
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


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    with new_page(browser, server, viewport={"width": 1280, "height": 820}) as p:
        yield p


@pytest.fixture
def phone_page(browser: Any, server: str) -> Iterator[Any]:
    """The page on a 390 x 844 phone screen (CSS pixels), touch and mobile viewport as Chromium emulates them."""
    with new_page(
        browser, server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    ) as p:
        yield p


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
        sheet = self.page.get_by_test_id(f"sheet-{self.phone}")
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


def post_notify(server: str, phone: str, member_name: str, message: str) -> None:
    """What credex-core does to tell a member something: the real POST /notify with the sandbox's client key."""
    response = httpx.post(
        f"{server}/notify",
        json={"phoneNumber": phone, "memberName": member_name, "message": message},
        headers={"x-client-api-key": SANDBOX_KEY},
        timeout=WAIT_S,
    )
    assert response.status_code == 202 and response.json()["status"] == "accepted", response.text


def history(server: str, phone: str) -> dict[str, Any]:
    """Both sides of the number's conversation as the server keeps them (GET /simulator/history)."""
    response = httpx.get(f"{server}/simulator/history/{phone}", timeout=WAIT_S)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const past = [];
  for (const node of document.querySelectorAll("body *")) {
    const box = node.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && box.right > width + 0.5) {
      past.push(`${node.tagName.toLowerCase()}.${node.className} right=${box.right}`);
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, clientWidth: width, past: past };
}"""


def assert_fits(page: Any) -> None:
    """No horizontal overflow: the document does not scroll sideways and no element's box passes the right edge."""
    found = page.evaluate(OVERFLOW_JS)
    assert found["scrollWidth"] <= found["clientWidth"], found
    assert found["past"] == [], found
