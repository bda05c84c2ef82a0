"""A separate OS process: N increments of one counter in one channel's state, through StateStore."""

from __future__ import annotations

import asyncio
import sys
import time

from app.config import Settings
from app.state.factory import build_redis, build_store


async def main(url: str, channel: str, count: int, start_at: float) -> None:
    settings = Settings(app_env="development", redis_url=url, state_busy_wait_seconds=30)
    redis = build_redis(settings)
    store = build_store(settings, redis)
    await store.redis_atomic.load_scripts()  # as the app does at start (fakeredis' TCP server drops NOSCRIPT)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    pid = f"p{id(store)}"
    for n in range(count):
        async with store.session(channel, f"{pid}.{n}") as state:
            data = state.get_flow_state().data
            state.update_state({"flow_data": {"data": {"count": data.get("count", 0) + 1}}})
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
