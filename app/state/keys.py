"""The Redis key layout. Every key of one channel shares the hash tag `{<channel>}` (Redis Cluster safe)."""

from __future__ import annotations

from typing import NamedTuple

from app.channel_ids import CHANNEL_ID

STATE_PATTERN = "channel:{*}"


class ChannelKeys(NamedTuple):
    state: str
    lease: str
    seen: str
    outbox: str
    outbox_seq: str
    statuses: str
    resume: str
    optout: str
    phone: str
    replies: str
    done: str
    moved: str
    intents: str


def channel_keys(channel_id: str) -> ChannelKeys:
    if not CHANNEL_ID.match(channel_id):
        raise ValueError("channel id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    tag = f"channel:{{{channel_id}}}"
    return ChannelKeys(
        state=tag,
        lease=f"{tag}:lease",
        seen=f"{tag}:seen",
        outbox=f"{tag}:outbox",
        outbox_seq=f"{tag}:outbox:seq",
        statuses=f"{tag}:statuses",
        resume=f"{tag}:resume",
        optout=f"{tag}:optout",
        phone=f"{tag}:phone",
        replies=f"{tag}:replies",
        done=f"{tag}:done",
        moved=f"{tag}:moved",
        intents=f"{tag}:intents",
    )
