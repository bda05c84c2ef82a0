"""Dead letters: replies the Cloud API did not accept within the retry budget, kept with their reason.

One stream for the whole service (a single key, so any Redis Cluster node answers it), capped at MAX_KEPT.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.state.redis_atomic import RedisAtomic

if TYPE_CHECKING:
    from redis.asyncio import Redis

MAX_KEPT = 10_000
DEAD_REPLIES = "deadletters:replies"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    channel_id: str
    reply: bytes
    code: int | None
    reason: str
    at_ms: int


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class DeadLetters:
    def __init__(self, redis_atomic: RedisAtomic) -> None:
        self.ra = redis_atomic

    @property
    def redis(self) -> Redis:
        return self.ra.redis

    async def add(self, channel_id: str, reply: bytes, code: int | None, reason: str) -> str:
        fields: dict[str, str | bytes | int] = {
            "c": channel_id,
            "r": reply,
            "code": "" if code is None else str(code),
            "why": reason[:200],
            "at": int(time.time() * 1000),
        }
        entry = await self.ra.guard(
            self.redis.xadd(DEAD_REPLIES, fields, maxlen=MAX_KEPT, approximate=True)  # type: ignore[arg-type]
        )
        return _text(entry)

    async def list(self, limit: int = 100, after: str = "-") -> list[DeadLetter]:
        start = after if after == "-" else f"({after}"
        rows = await self.ra.guard(self.redis.xrange(DEAD_REPLIES, min=start, max="+", count=limit))
        return [_letter(entry_id, fields) for entry_id, fields in rows]

    async def get(self, letter_id: str) -> DeadLetter | None:
        rows = await self.ra.guard(self.redis.xrange(DEAD_REPLIES, min=letter_id, max=letter_id, count=1))
        return _letter(*rows[0]) if rows else None

    async def remove(self, letter_id: str) -> bool:
        return bool(await self.ra.guard(self.redis.xdel(DEAD_REPLIES, letter_id)))

    async def count(self) -> int:
        return int(await self.ra.guard(self.redis.xlen(DEAD_REPLIES)))


def _letter(entry_id: bytes | str, fields: dict[bytes, bytes]) -> DeadLetter:
    code = _text(fields.get(b"code", b""))
    return DeadLetter(
        id=_text(entry_id),
        channel_id=_text(fields.get(b"c", b"")),
        reply=fields.get(b"r", b""),
        code=int(code) if code.lstrip("-").isdigit() else None,
        reason=_text(fields.get(b"why", b"")),
        at_ms=int(fields.get(b"at", b"0") or 0),
    )
