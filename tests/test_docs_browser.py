"""/docs and /redoc in real headless Chromium with every non-loopback request blocked: the pages must render
the operations from packaged assets alone (fastapi-offline's Swagger UI and ReDoc), as on a machine offline.

Needs Debian's chromium and Python Playwright, like tests/test_simulator_browser.py (whose browser fixture this
reuses): skipped without them, failed with CI=true.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.config import Settings
from app.main import create_app
from tests.in_thread import served
from tests.test_simulator_browser import browser

__all__ = ["browser"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The real app in development (docs on) under uvicorn; log_level=None leaves the process's loggers alone."""
    app = create_app(Settings(app_env="development", redis_url=None, whatsapp_access_token=None))
    with served(app, start_s=20, stop_s=10, log_config=None, log_level=None) as url:
        yield url


@pytest.fixture
def offline_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page, blocked
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_swagger_ui_renders_the_operations_offline(offline_page: tuple[Any, list[str]], server: str) -> None:
    page, blocked = offline_page
    page.goto(f"{server}/docs")
    page.locator(".opblock-summary-path", has_text="/notify").first.wait_for()
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/webhook", "/notify", "/admin/sessions"} <= {p.strip() for p in paths}
    page.locator(".opblock-post .opblock-summary-path", has_text="/webhook").first.click()
    page.get_by_text("X-Hub-Signature-256").first.wait_for()
    assert blocked == [], f"requests left the machine: {blocked}"


def test_redoc_renders_the_operations_offline(offline_page: tuple[Any, list[str]], server: str) -> None:
    page, blocked = offline_page
    page.goto(f"{server}/redoc")
    # Each operation's summary is a heading of the main column (the menu's copies stay hidden until opened).
    page.locator("h2", has_text="Updates from the WhatsApp Cloud API").first.wait_for()
    page.locator("h2", has_text="credex-core asks us to notify a member on WhatsApp").first.wait_for()
    assert blocked == [], f"requests left the machine: {blocked}"
