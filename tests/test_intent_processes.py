"""createCredex exactly once when the fault is real: the worker process is killed with SIGKILL, or redis-server is
killed and restarted, while credex-core (the sandbox, in its own process) has done the write and its answer is
held by a proxy. The redelivered tap must reconcile, not write again, and the person must be told it was sent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as sync_redis

from app.inbox.keys import partition_keys, partition_of
from tests.conftest import RedisProcess, free_port
from tests.procs import Meta, Proc, sandbox_proc, service, uvicorn_args, wait_for
from tests.procs import graph as graph  # the fixture, by name
from tests.webhook_kit import reply_message

pytestmark = [pytest.mark.processes, pytest.mark.reliability]
ALICE, BOB = "263770000001", "263770000002"
PARTITIONS = 8


@pytest.fixture
def credex(tmp_path: Path) -> Iterator[Proc]:
    """The sandbox behind a proxy that holds createCredex's answer for 3 s after the write took effect."""
    sandbox = sandbox_proc(tmp_path)
    sandbox.start(ready_path="/docs")
    port = free_port()
    env = {**os.environ, "SLOW_CREDEX_UPSTREAM": sandbox.url, "HOLD_PATHS": "/createCredex", "HOLD_SECONDS": "3"}
    proxy = Proc(uvicorn_args("tests.workers.slow_credex:app", port), env, port, tmp_path / "proxy.log")
    proxy.start(ready_path="/proxy/count")
    try:
        yield proxy
    finally:
        proxy.stop()
        sandbox.stop()


def sent_to(graph: Proc, to: str) -> list[dict[str, Any]]:
    return [s for s in httpx.get(graph.url + "/sent").json()["sent"] if s["to"] == to]


def texts(graph: Proc, to: str) -> str:
    return "\n".join(json.dumps(s["payload"]) for s in sent_to(graph, to))


def buttons(graph: Proc, to: str) -> dict[str, str]:
    """The latest reply buttons sent to `to`: name (before the nonce) -> id."""
    for item in reversed(sent_to(graph, to)):
        interactive = item["payload"].get("interactive") or {}
        found = (interactive.get("action") or {}).get("buttons")
        if found:
            return {b["reply"]["id"].partition(":")[0]: b["reply"]["id"] for b in found}
    return {}


def creates(proxy: Proc) -> int:
    return int(httpx.get(proxy.url + "/proxy/count").json().get("/createCredex", 0))


def to_confirmation(meta: Meta, svc: Proc, graph: Proc) -> str:
    """Alice: hi → Offer secured → 7 → Bob's number; returns the Sign and send button's id."""
    assert meta.say(svc, ALICE, "hi") == 200
    assert wait_for(lambda: "offer_secured" in texts(graph, ALICE), within=15), texts(graph, ALICE)
    assert meta.post(svc, reply_message(ALICE, "offer_secured", kind="list_reply")) == 200
    assert wait_for(lambda: "How much" in texts(graph, ALICE), within=15)
    assert meta.say(svc, ALICE, "7") == 200
    assert wait_for(lambda: "account handle" in texts(graph, ALICE) or "handle" in texts(graph, ALICE), within=15)
    count = len(sent_to(graph, ALICE))
    assert meta.say(svc, ALICE, BOB) == 200
    assert wait_for(lambda: "yes" in buttons(graph, ALICE) and len(sent_to(graph, ALICE)) > count, within=15)
    return buttons(graph, ALICE)["yes"]


def owner_pid(url: str, channel: str) -> int:
    owner = sync_redis.Redis.from_url(url).get(partition_keys(partition_of(channel, PARTITIONS)).owner)
    assert owner is not None
    return int(owner.decode().split(":")[1])


def start_services(tmp: Path, url: str, graph: Proc, credex: Proc) -> list[Proc]:
    settings = {"credex_api_url": credex.url, "credex_client_api_key": "sandbox-client-key", "service_runner": "flows"}
    services = [service(tmp, url, graph, name, **settings) for name in ("a", "b")]
    try:
        for svc in services:
            svc.start()
    except BaseException:
        for svc in services:
            svc.stop()
        raise
    return services


def one_offer_despite(
    fault: Callable[[Proc, Proc], Proc],
    tmp: Path,
    redis_process: RedisProcess,
    graph: Proc,
    credex: Proc,
    redelivery_retry_s: float = 0.0,
) -> None:
    """Alice signs an offer; once credex-core has made it (its answer held), `fault(a, b)` strikes and returns
    the process Meta redelivers the tap to. One offer must exist, and Alice be told so once."""
    a, b = start_services(tmp, redis_process.url, graph, credex)
    try:
        meta = Meta()
        yes = to_confirmation(meta, a, graph)
        tap = reply_message(ALICE, yes, title="Sign and send")
        assert meta.post(a, tap) == 200
        assert wait_for(lambda: creates(credex) == 1, within=10)  # credex-core did it; its answer is held
        assert (
            meta.post(fault(a, b), tap, retry_s=redelivery_retry_s) == 200
        )  # Meta redelivers the tap (and the inbox has it)
        assert wait_for(lambda: "was sent to" in texts(graph, ALICE), within=40), texts(graph, ALICE)[-800:]
        time.sleep(1)
        assert creates(credex) == 1
        assert texts(graph, ALICE).count("offer of 7.00 USD was sent") == 1
    finally:
        a.stop()
        b.stop()


def test_worker_killed_while_create_is_in_flight_makes_one_offer(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc, credex: Proc
) -> None:
    def kill_the_worker(a: Proc, b: Proc) -> Proc:
        victim = a if owner_pid(redis_process.url, ALICE) == a.pid else b
        victim.kill9()
        return b if victim is a else a

    one_offer_despite(kill_the_worker, tmp_path, redis_process, graph, credex)


@pytest.mark.parametrize("redis_process", [True], indirect=True, ids=["aof"])
def test_redis_killed_while_create_is_in_flight_makes_one_offer(
    tmp_path: Path, redis_process: RedisProcess, graph: Proc, credex: Proc
) -> None:
    def kill_redis(a: Proc, b: Proc) -> Proc:
        redis_process.stop()  # the commit after the write cannot happen
        time.sleep(4)
        redis_process.start()
        return a

    one_offer_despite(kill_redis, tmp_path, redis_process, graph, credex, redelivery_retry_s=10)
