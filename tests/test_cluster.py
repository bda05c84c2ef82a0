"""The service on a real 3-primary Redis Cluster: settings, every-primary commands, the batcher's pipelines
across nodes, the identity move, the inbox gauges, and one end-to-end run of the real service process.

The state-engine, inbox, intent and admin test modules also run on this cluster (conftest CLUSTER_MODULES).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
import redis as sync_redis
from pydantic import ValidationError
from redis.asyncio.cluster import RedisCluster

from app.inbox.inbox import Inbox, NewEntry
from app.inbox.keys import partition_keys
from app.inbox.observe import inbox_gauges
from app.state.atomic import new_token
from app.state.errors import StateUnavailable
from app.state.factory import build_redis, build_store
from app.state.identity import move_channel
from app.state.keys import channel_keys
from app.state.redis_atomic import Begun, Busy
from app.state.scripts import NAMES
from tests.cluster import LocalCluster
from tests.conftest import make_settings
from tests.procs import Meta, Proc, sent, service, wait_for
from tests.procs import graph as graph  # the fixture, by name
from tests.test_startup import clean_env, run_module
from tests.webhook_kit import make_app, running, settings, text_message

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("redis://127.0.0.1:7000/1", "database 1"),
        ("redis://127.0.0.1:7000?db=2", "database 2"),
        ("redis://127.0.0.1:7000,127.0.0.1:7001/3", "database 3"),
        ("redis+cluster://127.0.0.1:7000", "redis+cluster:// is not supported"),
    ],
)
def test_a_cluster_url_the_service_cannot_use_is_refused_at_startup(url: str, words: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(words)):
        make_settings(redis_url=url, redis_cluster=True)


def test_python_m_app_refuses_a_cluster_database_in_one_plain_line(tmp_path: Path) -> None:
    env = clean_env(APP_ENV="development", REDIS_URL="redis://10.0.0.1:7000/1", REDIS_CLUSTER="true")
    result = run_module("app", tmp_path, env)
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        "configuration error: REDIS_URL names database 1, but a Redis Cluster has only database 0: "
        "drop the /1 (or write /0) or set REDIS_CLUSTER=false"
    )


def test_a_list_of_nodes_needs_redis_cluster_and_redis_cluster_needs_a_url() -> None:
    with pytest.raises(ValidationError, match="set REDIS_CLUSTER=true"):
        make_settings(redis_url="redis://127.0.0.1:7000,127.0.0.1:7001")
    with pytest.raises(ValidationError, match="REDIS_CLUSTER=true needs REDIS_URL"):
        make_settings(redis_cluster=True)


async def test_any_node_or_a_list_of_nodes_finds_the_whole_cluster(redis_cluster: LocalCluster) -> None:
    down = "127.0.0.1:1"  # nothing listens there: the next node in the list is asked
    others = ",".join(f"127.0.0.1:{node.port}" for node in redis_cluster.nodes[1:])
    for url in (redis_cluster.url, f"redis://{down},{others}/0", f"redis://127.0.0.1:{redis_cluster.nodes[2].port}"):
        client = build_redis(make_settings(redis_url=url, redis_cluster=True))
        try:
            assert isinstance(client, RedisCluster)
            await client.set("probe", "1")
            assert len(client.get_primaries()) == 3
        finally:
            await client.aclose()


async def test_a_plain_client_on_a_cluster_node_is_not_ready_and_says_why(redis_cluster: LocalCluster) -> None:
    app = make_app(settings=settings(redis_url=redis_cluster.url))
    async with running(app) as bot:
        answer = await bot.client.get("/ready")
        assert answer.status_code == 503
        assert "set REDIS_CLUSTER=true" in answer.json()["reason"]


async def test_ready_needs_every_primary_and_reloads_scripts_a_primary_lost(redis_cluster: LocalCluster) -> None:
    app = make_app(settings=settings(redis_url=redis_cluster.url, redis_cluster=True))
    async with running(app) as bot:
        assert (await bot.client.get("/ready")).json() == {"status": "ready"}
        redis_cluster.primaries()[1].client().script_flush()  # as a replica promoted without the scripts
        assert (await bot.client.get("/ready")).status_code == 200
        scripts = bot.app.state.store.redis_atomic.scripts
        for node in redis_cluster.primaries():
            assert all(node.client().script_exists(*(getattr(scripts, name).sha for name in NAMES)))


async def test_sessions_on_every_primary_are_all_counted(redis_cluster: LocalCluster) -> None:
    redis_cluster.flush()
    client = build_redis(make_settings(redis_url=redis_cluster.url, redis_cluster=True))
    try:
        store = build_store(make_settings(), client)
        await store.redis_atomic.load_scripts()
        people = [f"2637711{n:05d}" for n in range(60)]
        for person in people:
            async with store.session(person, f"wamid.{person}"):
                pass
        holders = {redis_cluster.primary_of(channel_keys(p).state).port for p in people}
        assert len(holders) == 3  # the sessions are spread over all three primaries
        assert sorted([c async for c in store.redis_atomic.scan_channels(count=7)]) == sorted(people)
    finally:
        await client.aclose()


async def test_one_pipeline_of_scripts_over_every_node_survives_lost_scripts(redis_cluster: LocalCluster) -> None:
    """The batcher sends concurrent begins of many people as one pipeline per node; NOSCRIPT on one node is
    answered by loading the script and running just those calls again."""
    redis_cluster.flush()
    client = build_redis(make_settings(redis_url=redis_cluster.url, redis_cluster=True))
    try:
        ra = build_store(make_settings(), client).redis_atomic
        await ra.load_scripts()
        redis_cluster.primaries()[0].client().script_flush()
        people = [f"2637722{n:05d}" for n in range(40)]
        tokens = {p: new_token() for p in people}
        begun = await asyncio.gather(*(ra.begin(p, f"wamid.{p}", tokens[p]) for p in people))
        assert ra.batcher.batches < len(people)  # batched, not one round trip each
        assert all(isinstance(b, Begun) and b.version == 0 for b in begun)
        commits = await asyncio.gather(
            *(ra.commit(p, tokens[p], 0, b'{"channel": {}}', b"{}", f"wamid.{p}", [b"r"]) for p in people)
        )
        assert [c.version for c in commits] == [1] * len(people)
        for p in people:
            assert await client.hget(channel_keys(p).state, "v") == b"1"
            assert await client.exists(channel_keys(p).lease) == 0
    finally:
        await client.aclose()


async def test_a_burst_beyond_the_connection_limit_waits_instead_of_failing(redis_cluster: LocalCluster) -> None:
    """300 concurrent webhook appends, 4 connections per node: each waits its turn (redis-py's own cluster client
    fails a third of them, and closes the connections the others are using)."""
    redis_cluster.flush()
    client = build_redis(make_settings(redis_url=redis_cluster.url, redis_cluster=True, redis_max_connections=4))
    try:
        inbox = Inbox(client, 8)
        await inbox.scripts.load(client)
        people = [f"2637766{n:05d}" for n in range(600)]
        pairs = [people[n : n + 2] for n in range(0, len(people), 2)]
        results = await asyncio.gather(
            *(inbox.append([NewEntry("m", p, b"{}") for p in pair]) for pair in pairs), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        streams = {partition_keys(p).stream for p in range(8)}
        assert sum([await client.xlen(stream) for stream in streams]) == len(people)
        for node in redis_cluster.primaries():
            assert int(node.client().info("clients")["connected_clients"]) <= 4 + 1  # ours, and this INFO's
    finally:
        await client.aclose()


async def test_a_dead_primary_fails_only_the_calls_of_the_people_it_holds(tmp_path: Path) -> None:
    """A batch of begins over all three primaries, one of them just killed (before the cluster notices): the people
    on the two live ones are served; those on the dead one get StateUnavailable (a 503, a retried entry), and no
    call fails in any other way (redis-py's own reset would cut the live calls' connections too)."""
    cluster = LocalCluster(masters=3, node_timeout_ms=15_000)  # the cluster stays "ok" for the whole test
    cluster.start()
    client = build_redis(make_settings(redis_url=cluster.url, redis_cluster=True))
    try:
        ra = build_store(make_settings(), client).redis_atomic
        await ra.load_scripts()
        people = [f"2637777{n:05d}" for n in range(45)]
        holder = {p: cluster.primary_of(channel_keys(p).state).port for p in people}
        victim = next(node for node in cluster.nodes if node.port == holder[people[0]])
        await client.ping(target_nodes=RedisCluster.PRIMARIES)  # connections open to every node
        cluster.kill9(victim)
        for _ in range(3):  # and again, while the client rereads its slot map
            results = await asyncio.gather(
                *(ra.begin(p, f"wamid.{p}", new_token()) for p in people), return_exceptions=True
            )
            for person, result in zip(people, results, strict=True):
                if holder[person] == victim.port:
                    assert isinstance(result, StateUnavailable), repr(result)
                else:
                    assert isinstance(result, (Begun, Busy)), repr(result)
    finally:
        await client.aclose()
        cluster.stop()


async def test_identity_move_and_inbox_gauges_on_the_cluster(redis_cluster: LocalCluster) -> None:
    redis_cluster.flush()
    client = build_redis(make_settings(redis_url=redis_cluster.url, redis_cluster=True))
    try:
        ra = build_store(make_settings(), client).redis_atomic
        await ra.load_scripts()
        old, new = "263771234567", "263779876543"
        assert redis_cluster.primary_of(channel_keys(old).state) != redis_cluster.primary_of(channel_keys(new).state)
        token = new_token()
        await ra.begin(old, "wamid.1", token)
        await ra.commit(old, token, 0, b'{"channel": {"identifier": "263771234567"}}', b"{}", "wamid.1", [b"r1"])
        assert await move_channel(ra, old, new)
        assert await client.lrange(channel_keys(new).replies, 0, -1) == [b"r1"]
        assert await client.get(channel_keys(old).moved) == new.encode()

        inbox = Inbox(client, 8)
        await inbox.scripts.load(client)
        people = [f"2637733{n:05d}" for n in range(24)]
        await inbox.append([NewEntry("m", p, b"{}") for p in people])
        for partition in range(8):
            await client.xgroup_create(partition_keys(partition).stream, "workers", id="0", mkstream=True)
        gauges = await inbox_gauges(client, 8)
        assert gauges["inbox_lag"] == len(people)  # every partition's stream, wherever it lives, was read
        assert gauges["inbox_pending"] == 0
    finally:
        await client.aclose()


def replies_by_person(graph: Proc) -> dict[str, list[str]]:
    """Every text the Graph API stub accepted, by recipient, in the order it accepted them (one request)."""
    out: dict[str, list[str]] = {}
    for item in httpx.get(graph.url + "/sent", timeout=5).json()["sent"]:
        out.setdefault(item["to"], []).append(item["text"])
    return out


def test_the_service_process_handles_everyone_on_a_cluster(
    tmp_path: Path, redis_cluster: LocalCluster, graph: Proc
) -> None:
    """The issue's run: 30 people on a 3-primary cluster, each answered once, in order; /ready and the admin
    count right; the service given a list of nodes."""
    redis_cluster.flush()
    nodes = ",".join(f"127.0.0.1:{node.port}" for node in redis_cluster.nodes)
    svc = service(tmp_path, f"redis://{nodes}/0", graph, "a", redis_cluster="true", admin_token="adm")
    svc.start(ready_path="/ready")
    try:
        people = [f"2637744{n:05d}" for n in range(30)]
        meta = Meta()
        for n in range(2):  # ten people per POST: one append pipeline over all three primaries
            for start in range(0, len(people), 10):
                batch = [text_message(p, f"m{n}") for p in people[start : start + 10]]
                assert meta.post(svc, *batch, retry_s=5) == 200
        assert wait_for(lambda: len(sent(graph)) >= 2 * len(people), within=30)
        assert replies_by_person(graph) == {p: ["#1: m0", "#2: m1"] for p in people}
        r = sync_redis.RedisCluster.from_url(redis_cluster.url)
        try:
            assert all(r.hget(channel_keys(p).state, "v") == b"2" for p in people)
        finally:
            r.close()
        assert httpx.get(svc.url + "/ready").status_code == 200
        count = httpx.get(svc.url + "/admin/sessions", headers={"Authorization": "Bearer adm"}).json()
        assert count == {"live_sessions": len(people)}
    finally:
        svc.stop()
