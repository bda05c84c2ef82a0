"""Which credex-core the service talks to: the configured one, or in development the built-in sandbox."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.credex.client import CredexClient
from app.credex.sandbox import create_sandbox_app, sandbox_of
from app.credex.sandbox_notify import Notifier

SANDBOX_PATH = "/sandbox/credex"
SANDBOX_KEY = "sandbox-client-key"


TransportWrap = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


def build_credex(settings: Settings, wrap: TransportWrap | None = None) -> tuple[CredexClient, FastAPI | None]:
    """(client, sandbox app or None). Production requires CREDEX_API_URL (settings refuse to start without).

    `wrap` lets tests put a fault-injecting transport (a lost response, a timeout) in front of the sandbox.
    """
    if settings.credex_api_url:
        return CredexClient.from_settings(settings), None
    if not settings.is_development:
        raise ValueError("CREDEX_API_URL is required in production; the sandbox is for development only")
    sandbox = create_sandbox_app()
    transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=sandbox)
    client = CredexClient("http://credex-sandbox", SANDBOX_KEY, transport=wrap(transport) if wrap else transport)
    return client, sandbox


def connect_notify(sandbox: FastAPI, bot: FastAPI, settings: Settings) -> Notifier:
    """Let the sandbox call the bot's `POST /notify` when an offer is created, as credex-core does in production.

    In-process over an ASGI transport (see app/credex/sandbox_notify.py), with the key the route expects: the
    configured CREDEX_CLIENT_API_KEY, else the sandbox key. The bot is given to the sandbox here, at wiring time,
    so neither imports the other.
    """
    key = settings.credex_client_api_key
    notifier = Notifier(bot, key.get_secret_value() if key is not None else SANDBOX_KEY)
    sandbox_of(sandbox).notifier = notifier
    return notifier
