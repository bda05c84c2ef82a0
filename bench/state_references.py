"""The two reference state layers the state bench compares ours against.

Both are the best straightforward code for their pattern, doing the same work per message as ours (the
state read as ConversationState, one counter incremented, the state validated and written back as JSON
with a 300 s TTL), on the same connection pool and the same JSON library (pydantic's, as ours).
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import WatchError

from app.state.models import ConversationState

TTL_S = 300


def _work(raw: bytes | str | None, channel: str) -> ConversationState:
    state = ConversationState.model_validate_json(raw) if raw else ConversationState.fresh(channel)
    data = dict(state.flow_data.data)
    data["count"] = int(data.get("count", 0)) + 1
    return ConversationState.model_validate(
        {**state.model_dump(by_alias=True), "flow_data": {**state.flow_data.model_dump(), "data": data}}
    )


class WatchMultiReference:
    """The seed's pattern as the original implemented it: the state is read once when handling starts;
    the write later WATCHes the key, then MULTI + SET EX + EXEC, retried up to 3 times on WatchError.
    The WATCH comes after the read, so it guards nothing: concurrent handlers overwrite each other.
    """

    name = "seed WATCH/MULTI"

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def handle(self, channel: str, message_id: str) -> None:
        key = f"ref1:{{{channel}}}"
        state = _work(await self.redis.get(key), channel)  # read at the start of handling
        payload = state.model_dump_json(by_alias=True)
        for _ in range(3):
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    await pipe.watch(key)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, payload, ex=TTL_S)
                    await pipe.execute()
                return
            except WatchError:
                continue

    async def count(self, channel: str) -> int:
        raw = await self.redis.get(f"ref1:{{{channel}}}")
        return int(ConversationState.model_validate_json(raw).flow_data.data["count"]) if raw else 0


class FourCommandReference:
    """The common Telegram FSM storage shape: get_state, get_data, set_state, set_data, each its own
    command, no compare-and-set, no dedupe.
    """

    name = "4-command get/set"

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def handle(self, channel: str, message_id: str) -> None:
        state_key, data_key = f"ref2:{{{channel}}}:state", f"ref2:{{{channel}}}:data"
        step = await self.redis.get(state_key)
        raw = await self.redis.get(data_key)
        state = _work(raw, channel)
        await self.redis.set(state_key, step or b"counter", ex=TTL_S)
        await self.redis.set(data_key, state.model_dump_json(by_alias=True), ex=TTL_S)

    async def count(self, channel: str) -> int:
        raw = await self.redis.get(f"ref2:{{{channel}}}:data")
        return int(ConversationState.model_validate_json(raw).flow_data.data["count"]) if raw else 0
