"""The durable inbox under real faults: service processes killed with SIGKILL, a Graph API that refuses, a
redis-server killed and restarted. Every process here is an OS process on loopback, started and stopped by PID.

What must hold: every 200 means the message is handled exactly once and answered exactly once (or its reply is
dead-lettered with a reason); a person's replies come in the order of their messages.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis as sync_redis

from app.inbox.keys import partition_keys, partition_of
from app.state.keys import channel_keys
from tests.conftest import RedisProcess, free_port
from tests.procs import PYTHON, Meta, Proc, sent, service, set_fault, wait_for
from tests.procs import graph as graph  # the fixture, by name
from tests.webhook_kit import APP_SECRET, new_id

pytestmark = [pytest.mark.processes, pytest.mark.reliability]
PARTITIONS = 8


def owner_pid(r: sync_redis.Redis, channel: str) -> int:
    owner = r.get(partition_keys(partition_of(channel, PARTITIONS)).owner)
    assert owner is not None, "nobody owns the partition"
    return int(owner.decode().split(":")[1])


def two_services(tmp: Path, url: str, graph: Proc, **settings: object) -> tuple[Proc, Proc]:
    a, b = service(tmp, url, graph, "a", **settings), service(tmp, url, graph, "b", **settings)
    try:
        a.start()
        b.start()
    except BaseException:
        a.stop()
        b.stop()
        raise
    r = sync_redis.Redis.from_url(url)

    # Both alive and the partitions shared out: 4 each.
    def shared() -> bool:
        owners = [r.get(partition_keys(p).owner) for p in range(PARTITIONS)]
        pids = [int(o.decode().split(":")[1]) for o in owners if o is not None]
        return len(pids) == PARTITIONS and pids.count(a.pid) == pids.count(b.pid) == PARTITIONS // 2

    if not wait_for(shared, within=10):
        a.stop()
        b.stop()
        raise AssertionError("the partitions were not shared out between the two processes")
    return a, b


def test_kill9_while_handling_the_other_process_handles_it_once(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc
) -> None:
    a, b = two_services(tmp_path, redis_process.url, graph)
    r = sync_redis.Redis.from_url(redis_process.url)
    try:
        person = "263770001001"
        meta = Meta()
        assert meta.say(a, person, "sleep 2 first") == 200  # 200 before the 2 s step even started
        victim = a if owner_pid(r, person) == a.pid else b
        survivor = b if victim is a else a
        assert wait_for(lambda: r.exists(channel_keys(person).lease), within=5)  # being handled now
        victim.kill9()
        assert wait_for(lambda: sent(graph, person), within=20), "never handled after the kill"
        time.sleep(1.0)
        assert sent(graph, person) == ["#1: sleep 2 first"]  # once: the state says one commit
        assert r.hget(channel_keys(person).state, "v") == b"1"
        assert owner_pid(r, person) == survivor.pid
    finally:
        a.stop()
        b.stop()


def test_kill9_after_the_commit_before_the_send_the_reply_arrives_once(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc
) -> None:
    a, b = two_services(tmp_path, redis_process.url, graph)
    r = sync_redis.Redis.from_url(redis_process.url)
    try:
        person = "263770001002"
        set_fault(graph, to=person, code=131000, status=500, seconds=4)  # sends refused for 4 s: retried
        assert Meta().say(b, person, "hello") == 200
        victim = a if owner_pid(r, person) == a.pid else b
        assert wait_for(lambda: r.llen(channel_keys(person).replies) == 1, within=5)  # committed, not yet sent
        assert r.hget(channel_keys(person).state, "v") == b"1"
        victim.kill9()
        assert wait_for(lambda: sent(graph, person), within=20), "the committed reply was lost"
        time.sleep(1.0)
        assert sent(graph, person) == ["#1: hello"]
        assert r.llen(channel_keys(person).replies) == 0
    finally:
        a.stop()
        b.stop()


def test_bursts_to_two_processes_with_duplicates_and_late_redeliveries_keep_order(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc
) -> None:
    a, b = two_services(tmp_path, redis_process.url, graph)
    try:
        people = [f"26377000200{n}" for n in range(3)]
        ids = {p: [new_id() for _ in range(15)] for p in people}
        meta = Meta()
        for n in range(15):
            for p in people:
                target = a if (n + len(p)) % 2 else b
                assert meta.say(target, p, f"m{n}", ids[p][n]) == 200
                if n % 4 == 3:  # Meta redelivers: the same message again, and an older one late
                    assert meta.say(b if target is a else a, p, f"m{n}", ids[p][n]) == 200
                    assert meta.say(target, p, f"m{n - 2}", ids[p][n - 2]) == 200
        expected = {p: [f"#{n + 1}: m{n}" for n in range(15)] for p in people}
        assert wait_for(lambda: all(len(sent(graph, p)) >= 15 for p in people), within=30)
        time.sleep(0.5)
        assert {p: sent(graph, p) for p in people} == expected
    finally:
        a.stop()
        b.stop()


def test_one_person_under_pair_rate_limit_does_not_slow_anyone_else(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc
) -> None:
    svc = service(tmp_path, redis_process.url, graph, "a", whatsapp_retry_budget_seconds=6, admin_token="adm")
    svc.start()
    try:
        limited = "263770003000"
        others = [f"2637700031{n:02d}" for n in range(20)]
        set_fault(graph, to=limited, code=131056, status=400, seconds=3600)
        meta = Meta()
        started = time.time()
        for n in range(3):
            assert meta.say(svc, limited, f"l{n}") == 200
        for p in others:
            assert meta.say(svc, p, "hi") == 200
        assert wait_for(lambda: all(sent(graph, p) for p in others), within=10)
        quickest = max(item["t"] for item in httpx.get(graph.url + "/sent").json()["sent"])
        assert quickest - started < 5, "other people waited behind the rate-limited one"
        assert sent(graph, limited) == []
        headers = {"Authorization": "Bearer adm"}

        def dead() -> list[dict[str, object]]:
            items: list[dict[str, object]] = httpx.get(svc.url + "/admin/dead-letters", headers=headers).json()["items"]
            return items

        assert wait_for(lambda: len(dead()) == 3, within=40), "the refused replies must end as dead letters"
        letters = dead()
        assert [letter["reply"]["body"] for letter in letters] == ["#1: l0", "#2: l1", "#3: l2"]  # type: ignore[index]
        assert {letter["code"] for letter in letters} == {131056}
        set_fault(graph, to=limited, code=0, seconds=1)  # the limit is over: resend one from the admin API
        resent = httpx.post(f"{svc.url}/admin/dead-letters/{letters[0]['id']}/resend", headers=headers)
        assert resent.status_code == 200
        assert wait_for(lambda: sent(graph, limited) == ["#1: l0"], within=10)
        assert len(dead()) == 2
    finally:
        svc.stop()


@pytest.mark.parametrize("redis_process", [True], indirect=True, ids=["aof"])
def test_redis_restarted_under_load_errors_only_during_the_outage(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc
) -> None:
    svc = service(tmp_path, redis_process.url, graph, "a")
    svc.start()
    meta = Meta()
    accepted: list[tuple[str, str, str]] = []  # (person, text, message id) answered 200, in the order sent
    after_restart: list[int] = []
    restarted = threading.Event()
    stop = threading.Event()

    def load() -> None:
        for n in range(400):  # bounded: at most 400 messages, about 8 s
            if stop.is_set():
                return
            text, person, message_id = f"n{n}", f"2637700040{n % 20:02d}", new_id()
            status = meta.say(svc, person, text, message_id, retry_s=10)
            if status == 200:
                accepted.append((person, text, message_id))
            if restarted.is_set() and restarted_at[0] + 3 < time.monotonic():
                after_restart.append(status)
            time.sleep(0.02)

    restarted_at = [0.0]
    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(1.5)
        redis_process.stop()  # SIGKILL
        time.sleep(1.0)
        redis_process.start()
        restarted_at[0] = time.monotonic()
        restarted.set()
        worker.join(timeout=60)
    finally:
        stop.set()
        worker.join(timeout=10)
    try:
        assert after_restart and set(after_restart) == {200}, "errors went on after Redis was back"
        assert httpx.get(svc.url + "/ready").status_code == 200
        assert wait_for(lambda: len(sent(graph)) >= len(accepted), within=30)
        for person, text, message_id in accepted[::7]:  # Meta redelivers some: handled once already
            assert meta.say(svc, person, text, message_id, retry_s=10) == 200
        time.sleep(1.0)
        # Each person's replies: every accepted message once, in order, and the echo's counter unbroken across
        # the restart (the sessions survived it: AOF, fsync always).
        people = sorted({p for p, _, _ in accepted})
        expected = {p: [f"#{i + 1}: {t}" for i, t in enumerate(t for q, t, _ in accepted if q == p)] for p in people}
        assert {p: sent(graph, p) for p in people} == expected
    finally:
        svc.stop()


@pytest.mark.parametrize("code", [131056, 130429])
def test_a_graph_api_storm_for_everyone_delays_replies_but_loses_none(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc, code: int
) -> None:
    """Every send refused with a rate-limit code for 3 s: the webhook still answers 200; afterwards
    every reply arrives exactly once and in each person's order (none dead-lettered within the budget)."""
    a, b = two_services(tmp_path, redis_process.url, graph, whatsapp_retry_budget_seconds=30)
    try:
        people = [f"2637700060{n:02d}" for n in range(12)]
        set_fault(graph, to="*", code=code, status=400, seconds=3)
        meta = Meta()
        for n in range(3):
            for i, p in enumerate(people):
                assert meta.say(a if (i + n) % 2 else b, p, f"s{n}") == 200
        expected = {p: [f"#{n + 1}: s{n}" for n in range(3)] for p in people}
        assert wait_for(lambda: all(len(sent(graph, p)) >= 3 for p in people), within=40)
        time.sleep(0.5)
        assert {p: sent(graph, p) for p in people} == expected
        assert httpx.get(graph.url + "/sent").json()["refused"] > 0  # the storm was real
    finally:
        a.stop()
        b.stop()


def test_metrics_add_up_every_worker_process(tmp_path: Path, redis_process: RedisProcess) -> None:
    """`python -m app` with two uvicorn workers: whichever process answers a scrape, it counts both."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "REDIS_URL": redis_process.url,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WEB_CONCURRENCY": "2",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = Proc([PYTHON, "-m", "app"], env, port, tmp_path / "app.log")
    server.start()
    try:
        meta = Meta()
        people = [f"2637700050{n:02d}" for n in range(30)]
        for person in people:
            assert meta.say(server, person, "hi") == 200
        r = sync_redis.Redis.from_url(redis_process.url)
        assert wait_for(lambda: all(r.exists(channel_keys(p).state) for p in people), within=20)
        time.sleep(0.5)
        pattern = re.compile(r'^messages_handled_total\{type="text"\} (\S+)$', re.M)
        seen = set()
        for _ in range(6):  # new connections: the kernel spreads them over both workers
            text = httpx.get(server.url + "/metrics", headers={"Connection": "close"}).text
            found = pattern.search(text)
            assert found, text[:500]
            seen.add(float(found.group(1)))
        assert seen == {30.0}
    finally:
        server.stop()
