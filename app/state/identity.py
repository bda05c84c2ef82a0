"""Moving a person to a new id when Meta reports `user_changed_number`: state, unsent replies and processed ids.

The two ids hash to different slots, so on Redis Cluster no one script can touch both. Three steps, each on one
slot and each safe to repeat: read the old id's keys (one pipeline, one slot), import them under the new id
(keeping any state the new id already has: it is newer), then retire the old id with a forwarding record.
A crash between the steps leaves the entry pending; its redelivery runs them again and ends in the same place.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.state.keys import channel_keys
from app.state.redis_atomic import RedisAtomic

FORWARD_TTL_MS = 7 * 24 * 3600 * 1000


async def move_channel(ra: RedisAtomic, old: str, new: str) -> bool:
    """True if the old id's state was written under the new id."""
    o, n = channel_keys(old), channel_keys(new)
    pipe = ra.redis.pipeline(transaction=True)  # one slot: a consistent read
    pipe.hmget(o.state, ["core", "flow"])
    pipe.lrange(o.replies, 0, -1)
    pipe.zrange(o.seen, 0, -1, withscores=True)
    (core, flow), replies, seen = await ra.guard(pipe.execute())
    args: list[Any] = [
        _rekeyed(core, new),
        flow or "",
        ra.state_ttl_ms,
        ra.processed_ttl_ms,
        ra.replies_ttl_ms,
        len(replies),
        *replies,
    ]
    for member, score in seen:
        args += [member, int(score)]
    wrote = await ra.guard(ra.scripts.identity_import(keys=[n.state, n.replies, n.seen], args=args))
    keys = [o.state, o.replies, o.moved, o.lease]
    await ra.guard(ra.scripts.identity_forward(keys=keys, args=[new, FORWARD_TTL_MS]))
    return bool(wrote)


def _rekeyed(core: bytes | None, new: str) -> bytes | str:
    """The state names its channel; under the new id it must name the new one (the validator checks it)."""
    if not core:
        return ""
    doc = orjson.loads(core)
    if isinstance(doc.get("channel"), dict):
        doc["channel"]["identifier"] = new
        doc["channel"].pop("phone", None)  # a number change: the number the person shared is the old one
    return orjson.dumps(doc)
