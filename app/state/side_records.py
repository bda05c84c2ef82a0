"""Per-channel records kept beside the conversation state: the development outbox and delivery statuses."""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

from app.state.keys import channel_keys
from app.state.redis_atomic import RedisAtomic

OUTBOX_KEEP = 200
OUTBOX_TTL_MS = 24 * 3600 * 1000
STATUSES_KEEP = 500


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    message_json: str


class SideRecords:
    def __init__(self, redis_atomic: RedisAtomic) -> None:
        self.ra = redis_atomic

    async def outbox_push(self, channel_id: str, messages_json: list[str]) -> int:
        """Append in order, keep the last OUTBOX_KEEP; returns the last sequence number."""
        if not messages_json:
            return 0
        k = channel_keys(channel_id)
        script = self.ra.scripts.outbox_push
        args: list[str | int] = [OUTBOX_KEEP, OUTBOX_TTL_MS, *messages_json]
        return int(await self.ra.guard(self.ra.batcher.call(script, [k.outbox, k.outbox_seq], args)))

    async def outbox_read(self, channel_id: str, after: int = 0) -> list[OutboxEntry]:
        k = channel_keys(channel_id)
        members = await self.ra.guard(self.ra.redis.zrangebyscore(k.outbox, f"({after}", "+inf"))
        entries = []
        for member in members:
            text = member.decode() if isinstance(member, bytes) else member
            seq, _, body = text.partition(" ")
            entries.append(OutboxEntry(int(seq), body))
        return entries

    async def mark_status(self, channel_id: str, status_id: str, status: str) -> bool:
        """True the first time (status id, status) is seen for this channel."""
        k = channel_keys(channel_id)
        args: list[str | int] = [
            f"{status_id}:{status}",
            int(time.time() * 1000),
            STATUSES_KEEP,
            self.ra.processed_ttl_ms,
        ]
        return bool(await self.ra.guard(self.ra.batcher.call(self.ra.scripts.mark_status, [k.statuses], args)))


RESUME_TTL_S = 24 * 3600
"""How long the 'what was in progress' note outlives the conversation state (whose TTL is minutes)."""
OPTOUT_TTL_S = 400 * 24 * 3600
"""An opt-out lasts until the person writes again; the TTL only bounds a number that never comes back."""
PHONE_TTL_S = 90 * 24 * 3600
"""How long the number a hidden-number person shared is remembered after they last wrote (each session renews it)."""


class PersonNotes:
    """What must outlive the state's TTL: the person's *stop*, what was in progress with which account, and the
    phone number a person whose number is hidden shared with us.

    Plain commands beside the session (not inside its commit): a note a moment ahead of or behind the state is
    harmless, since it only words a reply or chooses whom not to notify.
    """

    def __init__(self, redis_atomic: RedisAtomic) -> None:
        self.ra = redis_atomic

    async def save_resume(self, channel_id: str, note: str | None, active_account_id: str | None) -> None:
        body = orjson.dumps({"note": note, "active": active_account_id})
        await self.ra.guard(self.ra.redis.set(channel_keys(channel_id).resume, body, ex=RESUME_TTL_S))

    async def load_resume(self, channel_id: str) -> tuple[str | None, str | None]:
        """(what was not done, the active account) as they were when the session lapsed."""
        raw = await self.ra.guard(self.ra.redis.get(channel_keys(channel_id).resume))
        if not raw:
            return None, None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None, None
        note, active = data.get("note"), data.get("active")
        return (note if isinstance(note, str) else None), (active if isinstance(active, str) else None)

    async def opt_out(self, channel_id: str) -> None:
        await self.ra.guard(self.ra.redis.set(channel_keys(channel_id).optout, str(int(time.time())), ex=OPTOUT_TTL_S))

    async def opt_in(self, channel_id: str) -> bool:
        """True if the person had opted out (so they can be told notifications are back on)."""
        return bool(await self.ra.guard(self.ra.redis.delete(channel_keys(channel_id).optout)))

    async def opted_out(self, channel_id: str) -> bool:
        return bool(await self.ra.guard(self.ra.redis.exists(channel_keys(channel_id).optout)))

    async def save_phone(self, channel_id: str, phone: str) -> None:
        await self.ra.guard(self.ra.redis.set(channel_keys(channel_id).phone, phone, ex=PHONE_TTL_S))

    async def load_phone(self, channel_id: str) -> str | None:
        """The number this person shared, if any, its time to live renewed (they are writing again)."""
        key = channel_keys(channel_id).phone
        raw = await self.ra.guard(self.ra.redis.getex(key, ex=PHONE_TTL_S))
        if not raw:
            return None
        phone = raw.decode() if isinstance(raw, bytes) else str(raw)
        return phone if phone.isascii() and phone.isdigit() and 8 <= len(phone) <= 15 else None
