"""A person chatting with the real bot: signed webhooks in, the dev outbox out, the credex sandbox behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis

from app.credex.sandbox import sandbox_of
from app.credex.wiring import TransportWrap
from app.main import create_app
from app.whatsapp.messages import OUTBOUND_MESSAGE
from tests.webhook_kit import Bot, reply_message, running, settings, text_message

ALICE, BOB, CHIPO = "263770000001", "263770000002", "263770000003"
"""Demo members of the sandbox (app/credex/sandbox_seed.py)."""


class Person:
    """One WhatsApp user: `say` a text or `tap` a button/list row, and read what the bot answered since."""

    def __init__(self, bot: Bot, phone: str) -> None:
        self.bot = bot
        self.phone = phone
        self.seen = 0
        self.current: dict[str, str] = {}
        """Ids of the latest buttons, by their name without the nonce."""

    async def read(self) -> list[dict[str, Any]]:
        await self.bot.settle()
        response = await self.bot.client.get(f"/dev/outbox/{self.phone}", params={"after": self.seen})
        items = response.json()["items"]
        if items:
            self.seen = items[-1]["seq"]
        messages = [item["message"] for item in items]
        for message in messages:  # every message the flows send must respect WhatsApp's limits
            OUTBOUND_MESSAGE.validate_python(message)
            if message.get("buttons"):
                self.current = {b["id"].partition(":")[0]: b["id"] for b in message["buttons"]}
        return messages

    async def say(self, text: str) -> list[dict[str, Any]]:
        response = await self.bot.send(text_message(self.phone, text))
        assert response.status_code == 200, response.text
        return await self.read()

    async def tap(self, reply_id: str, kind: str = "button_reply") -> list[dict[str, Any]]:
        """Tap a button by its id as tests name it ("yes"): the id sent is the one on the latest buttons
        ("yes:<nonce>"), as WhatsApp would send it."""
        reply_id = self.current.get(reply_id, reply_id)
        response = await self.bot.send(reply_message(self.phone, reply_id, kind=kind))
        assert response.status_code == 200, response.text
        return await self.read()

    async def choose(self, row_id: str) -> list[dict[str, Any]]:
        return await self.tap(row_id, kind="list_reply")


def text_of(messages: list[dict[str, Any]]) -> str:
    """Everything the person would read, joined: bodies, buttons and list rows."""
    parts: list[str] = []
    for m in messages:
        parts.append(m.get("body", ""))
        parts += [b["title"] for b in m.get("buttons", [])]
        parts += [r["title"] for s in m.get("sections", []) for r in s["rows"]]
    return "\n".join(parts)


def buttons(messages: list[dict[str, Any]]) -> list[str]:
    """Button ids without the confirmation nonce ("yes:1a2b3c4d" → "yes")."""
    return [b["id"].partition(":")[0] for m in messages for b in m.get("buttons", [])]


def rows(messages: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for m in messages for s in m.get("sections", []) for r in s["rows"]]


def make_bot_app(redis: Redis | None, wrap: TransportWrap | None = None, **overrides: Any) -> FastAPI:
    """The real service (flow tables, credex sandbox); `wrap` puts a transport in front of the sandbox."""
    return create_app(settings(**overrides), redis=redis, wrap_credex_transport=wrap)


@asynccontextmanager
async def bot_with(redis: Redis, wrap: TransportWrap | None = None, **overrides: Any) -> AsyncIterator[Bot]:
    async with running(make_bot_app(redis, wrap, **overrides)) as bot:
        yield bot


def sandbox(bot: Bot) -> Any:
    return sandbox_of(bot.app.state.sandbox)
