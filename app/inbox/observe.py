"""The inbox as gauges, read from Redis at scrape time: the same figures whichever process is scraped."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from app.inbox.keys import GROUP, MEMBERS, partition_keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

HELP = {
    "inbox_lag": "Inbox entries not yet read by any worker",
    "inbox_pending": "Inbox entries read and not yet acknowledged",
    "inbox_oldest_age_seconds": "Age of the oldest inbox entry not yet acknowledged",
    "inbox_dead_entries": "Inbox entries in the partitions' dead-letter streams",
    "inbox_workers": "Service processes with a live heartbeat",
}


def _ms_of(entry_id: bytes | str | None) -> int | None:
    if not entry_id:
        return None
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    head = text.partition("-")[0]
    return int(head) if head.isdigit() else None


async def inbox_gauges(redis: Redis, partitions: int) -> dict[str, float]:
    pipe = redis.pipeline(transaction=False)
    for partition in range(partitions):
        keys = partition_keys(partition)
        pipe.xinfo_groups(keys.stream)
        pipe.xpending(keys.stream, GROUP)
        pipe.xlen(keys.dead)
    pipe.zcount(MEMBERS, int(time.time() * 1000), "+inf")
    try:
        results: list[Any] = await pipe.execute(raise_on_error=False)
    except (RedisError, OSError):
        return {}
    lag = pending = dead = 0
    oldest: int | None = None
    for n in range(partitions):
        groups, summary, dead_count = results[3 * n : 3 * n + 3]
        if not isinstance(dead_count, Exception):
            dead += int(dead_count)
        if isinstance(groups, Exception) or isinstance(summary, Exception):
            continue
        group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
        if group is None:
            continue
        lag += int(group.get("lag") or 0)
        pending += int(summary.get("pending") or 0)
        first = _ms_of(summary.get("min")) if summary.get("pending") else None
        if first is not None:
            oldest = first if oldest is None else min(oldest, first)
    workers = results[-1]
    age = max(0.0, time.time() - oldest / 1000) if oldest is not None else 0.0
    return {
        "inbox_lag": lag,
        "inbox_pending": pending,
        "inbox_oldest_age_seconds": round(age, 3),
        "inbox_dead_entries": dead,
        "inbox_workers": 0 if isinstance(workers, Exception) else int(workers),
    }


def render(gauges: dict[str, float]) -> bytes:
    lines = []
    for name, value in gauges.items():
        lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge", f"{name} {float(value)}"]
    return ("\n".join(lines) + "\n").encode() if lines else b""
