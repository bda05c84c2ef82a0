"""The state model: shape, migrations, unreadable state, expiry."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from app.state import codec
from app.state.keys import channel_keys
from app.state.migrations import UnknownSchemaVersion, migrate
from app.state.models import SCHEMA_VERSION, ConversationState
from app.state.results import ErrorContext, ErrorHandler, ValidationResult
from app.state.store import StateStore

CH = "263771234567"


def test_unknown_top_level_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ConversationState.model_validate({"channel": {"identifier": CH}, "extra": 1})


def test_aliases_round_trip() -> None:
    state = ConversationState.fresh(CH)
    core, flow = codec.encode(state)
    raw = orjson.loads(core)
    assert set(raw) >= {"channel", "_metadata", "_validation", "member", "auth", "dashboard"}
    assert "flow_data" not in raw
    back = codec.decode(0, core, flow)
    assert back.channel.identifier == CH and back.metadata.schema_version == SCHEMA_VERSION


def test_schema_zero_is_migrated() -> None:
    raw = {"channel": {"type": "whatsapp", "identifier": CH}, "_metadata": {}}
    migrated = migrate(raw)
    assert migrated["_metadata"]["schema_version"] == SCHEMA_VERSION
    assert ConversationState.model_validate(migrated).metadata.version == 0


def test_newer_schema_is_refused() -> None:
    with pytest.raises(UnknownSchemaVersion):
        migrate({"_metadata": {"schema_version": SCHEMA_VERSION + 1}})


async def test_old_state_in_redis_is_upgraded_on_read(store: StateStore, redis_client: Redis) -> None:
    seed_shape = {"channel": {"type": "whatsapp", "identifier": CH}, "member": {"member_id": "m1"}}
    await redis_client.hset(channel_keys(CH).state, mapping={"v": 4, "core": orjson.dumps(seed_shape), "flow": b"{}"})
    async with store.session(CH, "wamid.1") as state:
        assert state.get_member_id() == "m1" and state.get_version() == 4
    core = orjson.loads(await redis_client.hget(channel_keys(CH).state, "core"))
    assert core["_metadata"]["schema_version"] == SCHEMA_VERSION and core["_metadata"]["version"] == 5


async def test_unreadable_state_starts_over_instead_of_failing_forever(store: StateStore, redis_client: Redis) -> None:
    await redis_client.hset(channel_keys(CH).state, mapping={"v": 2, "core": b"not json", "flow": b"{}"})
    async with store.session(CH, "wamid.1") as state:
        assert state.is_new and state.get_member_id() is None
    assert int(await redis_client.hget(channel_keys(CH).state, "v")) == 3


async def test_expired_session_is_told_apart_from_a_new_channel(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.1") as state:
        assert state.is_new and not state.session_expired
    await redis_client.delete(channel_keys(CH).state)  # what the 300 s TTL does
    async with store.session(CH, "wamid.2") as state:
        assert state.is_new and state.session_expired


class _Recorder:
    def __init__(self) -> None:
        self.recorded: list[ErrorContext] = []

    def record_error(self, context: ErrorContext) -> None:
        self.recorded.append(context)


def test_error_handler_records_and_returns_failure() -> None:
    recorder = _Recorder()
    ctx = ErrorContext("system", "Something went wrong", {"code": "STATE_GET_ERROR"})
    result = ErrorHandler.handle_error(RuntimeError("boom"), recorder, ctx)
    expected = ValidationResult.failure(
        "Something went wrong", outcome="error", error_type="system", code="STATE_GET_ERROR"
    )
    assert result == expected
    assert recorder.recorded == [ctx]
