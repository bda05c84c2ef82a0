"""Fixed-window rate limits kept in Redis, so every service process counts together (per key, one slot each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from app.state.errors import StateUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

WINDOW_S = 60


async def over_limit(redis: Redis, limits: list[tuple[str, int]]) -> int | None:
    """Count one hit on every (key, limit); the seconds until the window ends if any limit is passed, else None."""
    pipe = redis.pipeline(transaction=False)
    for key, _ in limits:
        pipe.incr(key)
        pipe.expire(key, WINDOW_S, nx=True)
        pipe.ttl(key)
    try:
        results = await pipe.execute()
    except (RedisError, OSError) as exc:
        raise StateUnavailable(f"rate limit unavailable: {type(exc).__name__}") from exc
    for n, (_, limit) in enumerate(limits):
        count, ttl = int(results[3 * n]), int(results[3 * n + 2])
        if count > limit:
            return max(1, ttl)
    return None
