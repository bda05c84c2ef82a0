"""The Lua scripts of the state engine: read once from `lua/*.lua`, registered once, run by EVALSHA.

redis-py's AsyncScript sends EVALSHA and, on NOSCRIPT (a restarted or failed-over server), loads the script
and retries, the same mechanism redis-py's own asyncio Lock uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

NAMES = (
    "begin",
    "commit",
    "abort",
    "extend",
    "clear_flow",
    "delete_session",
    "outbox_push",
    "mark_status",
    "outbox_ack",
    "outbox_enqueue",
    "identity_import",
    "identity_forward",
    "intent_begin",
)


def source(name: str) -> str:
    return resources.files("app.state").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Scripts:
    begin: AsyncScript
    commit: AsyncScript
    abort: AsyncScript
    extend: AsyncScript
    clear_flow: AsyncScript
    delete_session: AsyncScript
    outbox_push: AsyncScript
    mark_status: AsyncScript
    outbox_ack: AsyncScript
    outbox_enqueue: AsyncScript
    identity_import: AsyncScript
    identity_forward: AsyncScript
    intent_begin: AsyncScript

    @classmethod
    def register(cls, redis: Redis) -> Scripts:
        return cls(**{name: redis.register_script(source(name)) for name in NAMES})

    async def load(self, redis: Redis) -> None:
        """SCRIPT LOAD every script up front, so the first message pays no NOSCRIPT round trip."""
        for name in NAMES:
            script: AsyncScript = getattr(self, name)
            await redis.script_load(script.script)

    async def loaded(self, redis: Redis) -> bool:
        shas = [getattr(self, name).sha for name in NAMES]
        return all(await redis.script_exists(*shas))
