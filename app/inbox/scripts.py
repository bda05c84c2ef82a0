"""The inbox's Lua scripts (`app/inbox/lua/*.lua`): registered once, run by EVALSHA."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

NAMES = ("partition_own", "partition_release", "inbox_append")


def source(name: str) -> str:
    return resources.files("app.inbox").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class InboxScripts:
    partition_own: AsyncScript
    partition_release: AsyncScript
    inbox_append: AsyncScript

    @classmethod
    def register(cls, redis: Redis) -> InboxScripts:
        return cls(**{name: redis.register_script(source(name)) for name in NAMES})

    async def load(self, redis: Redis) -> None:
        for name in NAMES:
            await redis.script_load(getattr(self, name).script)
