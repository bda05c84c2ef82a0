"""Helpers for driving the real webhook: signed payloads, a running app, the outbox."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.flows.echo import EchoRunner
from app.main import create_app
from app.whatsapp.signature import sign

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "test-verify-token"
_ids = itertools.count(1)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "development",
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN,
        "state_busy_wait_seconds": 3.0,
    }
    values.update(overrides)
    return Settings(**values)


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(secret.encode(), body), "Content-Type": "application/json"}


def new_id() -> str:
    return f"wamid.test.{next(_ids)}"


def text_message(sender: str, body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "from": sender,
        "id": message_id or new_id(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": body},
    }


def reply_message(sender: str, reply_id: str, title: str = "Choice", kind: str = "button_reply") -> dict[str, Any]:
    return {
        "from": sender,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": reply_id, "title": title}},
    }


def envelope(*values: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """Wrap change values in `entries` entries (values spread over them round-robin)."""
    grouped: list[list[dict[str, Any]]] = [[] for _ in range(entries)]
    for n, value in enumerate(values):
        grouped[n % entries].append({"field": "messages", "value": value})
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": f"waba{n}", "changes": changes} for n, changes in enumerate(grouped)],
    }


def value(*messages: dict[str, Any]) -> dict[str, Any]:
    senders = sorted({m["from"] for m in messages})
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": f"Person {s[-4:]}"}, "wa_id": s} for s in senders],
        "messages": list(messages),
    }


def body_of(*messages: dict[str, Any]) -> bytes:
    return json.dumps(envelope(value(*messages))).encode()


class Bot:
    """The app under test, reached over ASGI with its lifespan running."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    async def post(self, body: bytes, headers: dict[str, str] | None = None, *, settle: bool = True) -> httpx.Response:
        """POST a body; unless `settle` is False, wait until the workers handled everything it put in the inbox,
        so a test reads the outcome as a person would a moment later."""
        headers = signed(body) if headers is None else headers
        response = await self.client.post("/webhook", content=body, headers=headers)
        if settle and response.status_code == 200:
            await self.settle()
        return response

    async def settle(self, within: float = 30.0) -> None:
        """Until the workers are idle; a notice the sandbox posts to /notify meanwhile (a new offer) is waited
        for too, and delivered, so what a person reads next never depends on timing."""
        await self.app.state.workers.settle(within)
        notifier = getattr(self.app.state, "sandbox_notifier", None)
        if notifier is not None and notifier.pending:
            await notifier.drain(within)
            await self.app.state.workers.settle(within)

    async def send(self, *messages: dict[str, Any]) -> httpx.Response:
        return await self.post(body_of(*messages))

    async def say(self, sender: str, text: str) -> httpx.Response:
        return await self.send(text_message(sender, text))

    async def outbox(self, channel: str, after: int = 0) -> list[dict[str, Any]]:
        """What the channel was sent, once the workers handled everything queued (also /notify, /simulator)."""
        await self.settle()
        response = await self.client.get(f"/dev/outbox/{channel}", params={"after": after})
        assert response.status_code == 200, response.text
        return [item["message"] for item in response.json()["items"]]

    async def texts(self, channel: str) -> list[str]:
        return [m.get("body", "") for m in await self.outbox(channel)]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Bot]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            yield Bot(app, client)


def make_app(**kwargs: Any) -> FastAPI:
    """The service with the EchoRunner (one countable reply per message) unless a runner is given."""
    app_settings = kwargs.pop("settings", None) or settings()
    kwargs.setdefault("runner", EchoRunner())
    return create_app(app_settings, **kwargs)
