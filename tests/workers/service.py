"""The real service for the process tests, with a countable runner: `uvicorn --factory tests.workers.service:build`.

Settings come from the environment like production. The runner echoes each message with a counter (the order a
person's messages were handled in is visible in every reply); a text `sleep <seconds> ...` sleeps inside the
step first, so a test can kill the process while a message is being handled.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from app.config import Settings
from app.flows.echo import EchoRunner
from app.main import create_app
from app.state.manager import StateManager
from app.whatsapp.inbound import InboundMessage


class SleepyEcho(EchoRunner):
    async def run(self, message: InboundMessage, state: StateManager) -> None:
        words = (message.input_text or "").split()
        if len(words) >= 2 and words[0] == "sleep":
            await asyncio.sleep(float(words[1]))
        await super().run(message, state)


def build() -> FastAPI:
    return create_app(Settings(), runner=SleepyEcho())
