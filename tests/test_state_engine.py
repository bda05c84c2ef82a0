"""The state engine on fakeredis and real Redis: TTL, versions, leases, dedupe, validation."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from redis.asyncio import Redis

from app.state.atomic import new_token
from app.state.errors import ChannelBusy, CommitRefused, StateValidationError
from app.state.factory import build_store
from app.state.keys import channel_keys
from app.state.models import SCHEMA_VERSION
from app.state.redis_atomic import Begun, Busy, Duplicate
from app.state.store import StateStore
from tests.conftest import make_settings

CH = "263771234567"


async def stored(redis: Redis, channel: str = CH) -> dict[bytes, bytes]:
    return await redis.hgetall(channel_keys(channel).state)  # type: ignore[no-any-return]


async def test_commit_sets_ttl_version_and_schema(store: StateStore, redis_client: Redis) -> None:
    for n in range(1, 4):
        async with store.session(CH, f"wamid.{n}") as state:
            assert state.get_version() == n - 1
            state.update_state({"flow_data": {"context": "test", "component": "step", "data": {"n": n}}})
        assert state.committed_version == n
        pttl = await redis_client.pttl(channel_keys(CH).state)
        assert 299_000 < pttl <= 300_000
        raw = await stored(redis_client)
        assert int(raw[b"v"]) == n
        core = orjson.loads(raw[b"core"])
        assert core["_metadata"]["version"] == n
        assert core["_metadata"]["schema_version"] == SCHEMA_VERSION
        assert orjson.loads(raw[b"flow"])["data"] == {"n": n}
    assert await redis_client.exists(channel_keys(CH).lease) == 0


async def test_ttl_slides_on_every_commit(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.a"):
        pass
    await redis_client.pexpire(channel_keys(CH).state, 1000)
    async with store.session(CH, "wamid.b"):
        pass
    assert await redis_client.pttl(channel_keys(CH).state) > 299_000


async def test_stale_version_writes_nothing(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.1") as state:
        state.update_state({"flow_data": {"context": "c", "component": "one"}})
    before = await stored(redis_client)
    ra = store.redis_atomic
    token = new_token()
    begun = await ra.begin(CH, "wamid.2", token)
    assert isinstance(begun, Begun) and begun.version == 1
    with pytest.raises(CommitRefused) as refused:
        await ra.commit(CH, token, 0, b"{}", b"{}", "wamid.2")
    assert refused.value.reason == "conflict" and refused.value.current_version == 1
    assert await stored(redis_client) == before
    # the message was not remembered: a retry is processed
    assert not await redis_client.zscore(channel_keys(CH).seen, "wamid.2")


async def test_lost_lease_writes_nothing(store: StateStore, redis_client: Redis) -> None:
    ra = store.redis_atomic
    token = new_token()
    assert isinstance(await ra.begin(CH, "wamid.1", token), Begun)
    await redis_client.delete(channel_keys(CH).lease)  # the lease expired
    with pytest.raises(CommitRefused) as refused:
        await ra.commit(CH, token, 0, b"{}", b"{}", "wamid.1")
    assert refused.value.reason == "lost"
    assert await stored(redis_client) == {}


async def test_expired_lease_cannot_commit_after_takeover(store: StateStore, redis_client: Redis) -> None:
    ra = store.redis_atomic
    slow, fast = new_token(), new_token()
    assert isinstance(await ra.begin(CH, "wamid.1", slow), Begun)
    await redis_client.pexpire(channel_keys(CH).lease, 1)
    await asyncio.sleep(0.02)
    taken = await ra.begin(CH, "wamid.1", fast)
    assert isinstance(taken, Begun)
    with pytest.raises(CommitRefused) as refused:
        await ra.commit(CH, slow, 0, b'{"x":1}', b"{}", "wamid.1")
    assert refused.value.reason == "lost"
    assert await stored(redis_client) == {}
    assert (await ra.commit(CH, fast, 0, b'{"y":1}', b"{}", "wamid.1")).version == 1
    with pytest.raises(CommitRefused):
        await ra.commit(CH, slow, 1, b'{"x":1}', b"{}", "wamid.1")
    assert (await stored(redis_client))[b"core"] == b'{"y":1}'


async def test_duplicate_and_abort(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.same") as state:
        assert not state.duplicate
        state.update_state({"flow_data": {"context": "c", "component": "first"}})
    async with store.session(CH, "wamid.same") as state:
        assert state.duplicate
        state.update_state({"flow_data": {"context": "c", "component": "second"}})
    assert orjson.loads((await stored(redis_client))[b"flow"])["component"] == "first"

    with pytest.raises(RuntimeError):
        async with store.session(CH, "wamid.fails") as state:
            state.update_state({"flow_data": {"context": "c", "component": "crashed"}})
            raise RuntimeError("handler failed")
    assert orjson.loads((await stored(redis_client))[b"flow"])["component"] == "first"
    assert await redis_client.exists(channel_keys(CH).lease) == 0
    async with store.session(CH, "wamid.fails") as state:
        assert not state.duplicate  # aborted, so the retry is processed


async def test_processed_ids_are_remembered_by_time_with_a_hard_cap(store: StateStore, redis_client: Redis) -> None:
    """Meta retries for 7 days: ids are forgotten by age, not by count (a chatty day must not let an old
    message in again); a cap per person still bounds the memory."""
    seen = channel_keys(CH).seen
    eight_days_ago = (time.time() - 8 * 24 * 3600) * 1000
    await redis_client.zadd(seen, {"wamid.ancient": eight_days_ago})
    for n in range(205):
        async with store.session(CH, f"wamid.{n}"):
            pass
    assert await redis_client.zcard(seen) == 205  # every id of this week, far past the old count of 100
    assert await redis_client.zscore(seen, "wamid.ancient") is None
    async with store.session(CH, "wamid.0") as state:
        assert state.duplicate  # the first of 205 is still known
    assert await redis_client.ttl(seen) > 7 * 24 * 3600 - 10
    capped = build_store(make_settings(state_processed_ids=50), redis_client)
    async with capped.session(CH, "wamid.last"):
        pass
    assert await redis_client.zcard(seen) == 50
    assert await redis_client.zscore(seen, "wamid.last") is not None


async def test_invalid_update_is_refused_and_nothing_changes(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.1") as state:
        state.update_state({"member": {"first_name": "Tendai", "member_id": "m1"}})
    before = await stored(redis_client)
    async with store.session(CH, "wamid.2") as state:
        bad = state.update_state({"member": {"member_tier": "platinum"}})
        assert not bad.valid and bad.error and "member.member_tier" in bad.error
        unknown = state.update_state({"bogus": 1})
        assert not unknown.valid and "bogus" in (unknown.error or "")
        rule = state.update_state({"flow_data": {"component": "orphan"}})
        assert not rule.valid and "context" in (rule.error or "")
        assert state.get("member").first_name == "Tendai"
    after = await stored(redis_client)
    assert orjson.loads(after[b"core"])["member"] == orjson.loads(before[b"core"])["member"]
    assert orjson.loads(after[b"flow"]) == orjson.loads(before[b"flow"])


async def test_commit_validates_and_writes_nothing(store: StateStore, redis_client: Redis) -> None:
    with pytest.raises(StateValidationError) as err:
        async with store.session(CH, "wamid.1") as state:
            state.committable().flow_data.component = "no-context"  # bypassing update_state
    assert "context" in str(err.value)
    assert await stored(redis_client) == {}
    assert await redis_client.exists(channel_keys(CH).lease) == 0
    async with store.session(CH, "wamid.1") as state:
        assert not state.duplicate


async def test_unknown_top_level_key_rejected_on_read(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.1"):
        pass
    key = channel_keys(CH).state
    core = orjson.loads(await redis_client.hget(key, "core"))
    core["surprise"] = True
    await redis_client.hset(key, "core", orjson.dumps(core))
    ok, data, error = await store.atomic.execute_atomic(CH, "get")
    assert not ok and data is None and error and "surprise" in error


async def test_busy_channel_waits_then_times_out(store: StateStore) -> None:
    store.atomic.busy_wait_s = 0.3
    token = new_token()
    assert isinstance(await store.redis_atomic.begin(CH, "", token), Begun)
    assert isinstance(await store.redis_atomic.begin(CH, "", new_token()), Busy)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ChannelBusy):
        async with store.session(CH, "wamid.x"):
            pass
    assert 0.25 < loop.time() - started < 2.0


async def test_waiter_proceeds_when_lease_released(store: StateStore) -> None:
    token = new_token()
    assert isinstance(await store.redis_atomic.begin(CH, "", token), Begun)

    async def release_soon() -> None:
        await asyncio.sleep(0.1)
        await store.redis_atomic.abort(CH, token)

    releaser = asyncio.create_task(release_soon())
    async with store.session(CH, "wamid.after") as state:
        assert not state.duplicate
    await releaser


async def test_concurrent_duplicates_have_one_effect(store: StateStore, redis_client: Redis) -> None:
    effects: list[int] = []

    async def deliver(n: int) -> None:
        async with store.session(CH, "wamid.dup") as state:
            if not state.duplicate:
                effects.append(n)
                await asyncio.sleep(0.01)

    await asyncio.gather(*(deliver(n) for n in range(5)))
    assert len(effects) == 1
    assert int((await stored(redis_client))[b"v"]) == 1


async def test_concurrent_tasks_lose_no_update(store: StateStore, redis_client: Redis) -> None:
    async def increment(n: int) -> None:
        async with store.session(CH, f"wamid.{n}") as state:
            count = state.get_flow_state().data.get("count", 0)
            await asyncio.sleep(0)
            state.update_state({"flow_data": {"data": {"count": count + 1}}})

    await asyncio.gather(*(increment(n) for n in range(50)))
    assert orjson.loads((await stored(redis_client))[b"flow"])["data"]["count"] == 50


async def test_clear_flow_and_delete(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.1") as state:
        state.update_state({"member": {"member_id": "m1"}, "flow_data": {"context": "offer", "component": "x"}})
        state.set_auth_token("jwt-value-123456")
    ok, version, _ = await store.atomic.execute_atomic(CH, "clear_flow")
    assert ok and version == 2
    ok, state_after, _ = await store.atomic.execute_atomic(CH, "get")
    assert ok and state_after.flow_data.context == "" and state_after.member.member_id == "m1"
    assert state_after.auth.token.get_secret_value() == "jwt-value-123456"
    assert state_after.metadata.version == 2
    ok, deleted, _ = await store.atomic.execute_atomic(CH, "delete")
    assert ok and deleted == 1
    assert await stored(redis_client) == {}
    async with store.session(CH, "wamid.1") as state:
        assert state.duplicate  # processed ids survive a reset
    async with store.session(CH, "wamid.2") as state:
        assert state.is_new and state.session_expired


async def test_clear_flow_refused_while_a_session_holds_the_channel(store: StateStore) -> None:
    async with store.session(CH, "wamid.1"):
        pass
    assert isinstance(await store.redis_atomic.begin(CH, "", new_token()), Begun)
    ok, _, error = await store.atomic.execute_atomic(CH, "clear_flow")
    assert not ok and error == "channel busy"


async def test_secrets_stored_but_masked_in_dumps(store: StateStore, redis_client: Redis) -> None:
    async with store.session(CH, "wamid.1") as state:
        state.update_state({"member": {"member_id": "m1"}})
        state.set_auth_token("eyJhbGciOi.secret-part.sig")
        assert "secret-part" not in state.snapshot().model_dump_json()
        assert "secret-part" not in repr(state.snapshot())
    raw = await stored(redis_client)
    assert orjson.loads(raw[b"core"])["auth"]["token"] == "eyJhbGciOi.secret-part.sig"


async def test_execute_atomic_set_and_bad_input(store: StateStore) -> None:
    ok, version, error = await store.atomic.execute_atomic(
        CH, "set", {"channel": {"type": "whatsapp", "identifier": CH}}, ttl=300
    )
    assert ok and version == 1 and error is None
    ok, _, error = await store.atomic.execute_atomic(CH, "set", {"channel": {"identifier": "other"}})
    assert not ok and error and "channel" in error
    ok, _, error = await store.atomic.execute_atomic(CH, "set", {"channel": {"identifier": CH}}, ttl=60)
    assert not ok and error and "ttl" in error
    ok, _, error = await store.atomic.execute_atomic(CH, "explode")
    assert not ok and error and "unknown operation" in error


async def test_scripts_reload_after_script_flush(store: StateStore, redis_client: Redis) -> None:
    await redis_client.script_flush()
    async with store.session(CH, "wamid.1") as state:
        assert not state.duplicate
    scripts = store.redis_atomic.scripts
    assert await redis_client.script_exists(scripts.begin.sha, scripts.commit.sha) == [True, True]
    assert not await scripts.loaded(redis_client)  # abort & co are reloaded when first needed
    await store.redis_atomic.load_scripts()
    assert await scripts.loaded(redis_client)


async def test_begin_reports_duplicate_before_busy(store: StateStore) -> None:
    async with store.session(CH, "wamid.1"):
        pass
    assert isinstance(await store.redis_atomic.begin(CH, "", new_token()), Begun)
    assert isinstance(await store.redis_atomic.begin(CH, "wamid.1", new_token()), Duplicate)


async def test_keys_share_one_hash_tag() -> None:
    keys = channel_keys("US.13491208655302741918")
    assert {k[k.index("{") : k.index("}") + 1] for k in keys} == {"{US.13491208655302741918}"}
    with pytest.raises(ValueError):
        channel_keys("bad}{id")


async def test_concurrent_sessions_share_pipelines_and_survive_script_flush(
    store: StateStore, redis_client: Redis
) -> None:
    await redis_client.script_flush()  # the first batch meets NOSCRIPT and must reload, not fail

    async def one(n: int) -> None:
        async with store.session(f"2637700{n:05d}", f"wamid.{n}") as state:
            state.update_state({"flow_data": {"data": {"n": n}}})

    await asyncio.gather(*(one(n) for n in range(40)))
    batcher = store.redis_atomic.batcher
    assert batcher.calls == 80 and batcher.batches < 80
    for n in range(40):
        raw = await stored(redis_client, f"2637700{n:05d}")
        assert orjson.loads(raw[b"flow"])["data"] == {"n": n} and int(raw[b"v"]) == 1


async def test_hold_lease_costs_nothing_on_a_fresh_lease(store: StateStore, redis_client: Redis) -> None:
    """A credex-core call milliseconds after begin needs no renewal round trip: the lease cannot run out."""
    lease = channel_keys(CH).lease
    async with store.session(CH, "wamid.1") as state:
        await redis_client.pexpire(lease, 20_000)
        await state.hold_lease()
        assert await redis_client.pttl(lease) <= 20_000  # not renewed


async def test_hold_lease_renews_and_refuses_after_a_takeover(redis_client: Redis) -> None:
    store = build_store(make_settings(state_lease_ms=1000, state_lease_renew_margin_ms=999), redis_client)
    await store.redis_atomic.load_scripts()
    lease = channel_keys(CH).lease
    with pytest.raises(CommitRefused):
        async with store.session(CH, "wamid.1") as state:
            await asyncio.sleep(0.01)  # less than the margin left: the call could outlive the lease
            await redis_client.pexpire(lease, 500)
            await state.hold_lease()  # still ours: renewed to the full lease
            assert await redis_client.pttl(lease) > 500
            state.update_state({"flow_data": {"context": "c", "component": "before-write"}})
            await redis_client.set(lease, "another-worker")  # expired and taken over meanwhile
            await state.hold_lease()
    assert await stored(redis_client) == {}
    assert await redis_client.get(lease) == b"another-worker"  # the other worker's lease is untouched
