"""Every Lua script touches one slot: the keys the code really passes to each script, asked of a real cluster.

The code paths run on fakeredis through a connection that records every command as it goes on the wire
(single calls, the ScriptBatcher's pipelines, the inbox's append pipeline, the identity move's transaction).
Then a real cluster node answers CLUSTER KEYSLOT for every key: each EVALSHA's keys, and each transaction's,
must all be in one slot. Every script under app/state/lua and app/inbox/lua must have been seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from typing import Any

import fakeredis
import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from app.inbox import scripts as inbox_scripts
from app.inbox.inbox import Inbox, NewEntry
from app.state import scripts as state_scripts
from app.state.atomic import new_token
from app.state.factory import build_store
from app.state.identity import move_channel
from app.state.side_records import SideRecords
from app.workers.ownership import Ownership
from tests.cluster import LocalCluster
from tests.conftest import make_settings

pytestmark = pytest.mark.cluster

CHANNELS = ["263771234567", "263770000001", "447700900123", "a", "user.name_x:y-z", "x" * 128]
MOVES = [("263771234567", "263779999999"), ("263770000001", "14155550100")]
PARTITIONS = [1, 8, 64]


def script_names() -> dict[str, str]:
    """sha1 -> script name, for every .lua file shipped."""
    names = {}
    for package, module in (("app.state", state_scripts), ("app.inbox", inbox_scripts)):
        for entry in resources.files(package).joinpath("lua").iterdir():
            if entry.name.endswith(".lua"):
                name = entry.name.removesuffix(".lua")
                names[hashlib.sha1(module.source(name).encode()).hexdigest()] = name
    return names


def recording_client(wire: list[tuple[Any, ...]]) -> Redis:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), lua_modules=set())
    base = client.connection_pool.connection_class

    class Recording(base):  # type: ignore[misc, valid-type]
        def pack_command(self, *args: Any) -> Any:
            wire.append(args)
            return super().pack_command(*args)

    client.connection_pool.connection_class = Recording
    return client


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def keyed_groups(wire: list[tuple[Any, ...]], names: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """(what, keys) for every script call and every MULTI ... EXEC block seen on the wire."""
    block: list[str] | None = None
    for args in wire:
        command = _text(args[0]).upper()
        if command == "MULTI":
            block = []
        elif command == "EXEC" and block is not None:
            yield "transaction", block
            block = None
        elif block is not None:
            block.append(_text(args[1]))
        elif command in ("EVALSHA", "EVAL"):
            sha = _text(args[1]) if command == "EVALSHA" else hashlib.sha1(_text(args[1]).encode()).hexdigest()
            yield names.get(sha, sha), [_text(k) for k in args[3 : 3 + int(args[2])]]


async def drive_every_script(client: Redis) -> None:
    """The real code paths, for a few channels, partitions and identity moves."""
    store = build_store(make_settings(), client)
    ra = store.redis_atomic
    await ra.load_scripts()
    records = SideRecords(ra)
    for n, channel in enumerate(CHANNELS):
        token = new_token()
        begun = await ra.begin(channel, f"wamid.{n}", token)
        assert not isinstance(begun, tuple)
        assert await ra.extend(channel, token)
        assert await ra.begin_intent(channel, token, f"op-{n}", b'{"op": "createCredex"}') is None
        committed = await ra.commit(
            channel, token, 0, b'{"channel": {}}', b"{}", f"wamid.{n}", [b'{"reply": 1}'], [f"op-{n}"]
        )
        await ra.ack_reply(channel, committed.replies[0])
        await ra.enqueue_replies(channel, f"work-{n}", [b'{"reply": 2}'])
        await ra.clear_flow(channel, b"{}")
        token = new_token()
        await ra.begin(channel, "", token)
        await ra.abort(channel, token)
        await records.outbox_push(channel, ['{"text": "hi"}'])
        await records.mark_status(channel, f"wamid.status.{n}", "delivered")
    for old, new in MOVES:
        await move_channel(ra, old, new)
    for channel in CHANNELS:
        await ra.delete_session(channel)
    for partitions in PARTITIONS:
        inbox = Inbox(client, partitions)
        await inbox.scripts.load(client)
        await inbox.append([NewEntry("m", channel, b"{}") for channel in CHANNELS])

        async def nothing(_: int) -> None:
            return None

        owner = Ownership(
            client, inbox.scripts, "host:1:abc", partitions, 5000, gained=nothing, lost=nothing, giving_back=nothing
        )
        await owner.tick()  # heartbeat, then partition_own for its share (all of them: it is alone)
        assert owner.owned
        await owner.leave()  # partition_release for each


async def test_every_script_is_given_keys_of_one_slot(redis_cluster: LocalCluster) -> None:
    wire: list[tuple[Any, ...]] = []
    client = recording_client(wire)
    try:
        await drive_every_script(client)
    finally:
        await client.aclose()
    names = script_names()
    groups = list(keyed_groups(wire, names))
    assert {what for what, _ in groups} >= set(names.values()) | {"transaction"}, "a script was never run"
    node = redis_cluster.nodes[0].client()
    keys = sorted({key for _, ks in groups for key in ks})
    pipe = node.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("CLUSTER", "KEYSLOT", key)
    slot_of = dict(zip(keys, (int(s) for s in pipe.execute()), strict=True))
    assert all(slot_of[key] == key_slot(key.encode()) for key in keys)  # redis-py routes by the server's rule
    crossing = [(what, ks) for what, ks in groups if len({slot_of[k] for k in ks}) > 1]
    assert crossing == []
    assert all(ks for what, ks in groups if what != "transaction"), "a script was given no key: its node is random"
    # The channels and partitions do spread over the slots: the check above is not trivially true.
    assert len(set(slot_of.values())) >= len(CHANNELS)
