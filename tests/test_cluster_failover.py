"""A primary of the cluster killed with SIGKILL under load: its replica takes over by itself (cluster-node-timeout
1 s, no CLUSTER FAILOVER), and the service recovers by itself, losing and doubling nothing it acknowledged.

Load: 300 messages over 60 people (more rounds, 720 at most, until RECOVER_S after the failover have passed)
through a service process's webhook, six people's messages per POST as Meta batches them; a 503 (or a refused
connection) is retried with the same body, as Meta does. Each person's messages go one after another, each only
once the one before was acknowledged.

What may be lost is bounded the way Redis bounds it: replication to the replica is asynchronous, like AOF
`everysec` it may miss the last moment of writes. So a message acknowledged more than LOSS_WINDOW_S before the
kill must be answered; any later one may be missing (on loopback replication is sub-millisecond, so in practice
none is). Nothing is answered twice, and each person's counter in the state equals their answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis as sync_redis

from app.state.keys import channel_keys
from tests.cluster import LocalCluster, binaries
from tests.conftest import IN_CI
from tests.procs import Proc, service, wait_for
from tests.procs import graph as graph  # the fixture, by name
from tests.test_cluster import replies_by_person
from tests.webhook_kit import body_of, signed, text_message

pytestmark = [pytest.mark.cluster, pytest.mark.processes]

PEOPLE = [f"2637755{n:05d}" for n in range(60)]
ROUNDS = 5
MAX_ROUNDS = 12
"""At least ROUNDS messages each (300); more rounds only until the test has seen RECOVER_S after the failover."""
PER_POST = 6
LOSS_WINDOW_S = 1.0
RECOVER_S = 5.0
"""After the replica is promoted, every webhook POST must answer 200 again within this many seconds."""


@pytest.fixture
def failover_cluster() -> Iterator[LocalCluster]:
    """3 primaries and 3 replicas of the test's own (it kills one)."""
    if binaries() is None:
        if IN_CI:
            pytest.fail("CI=true: redis-server or redis-cli missing; the failover test must run in CI")
        pytest.skip("redis-server or redis-cli missing")
    cluster = LocalCluster(masters=3, replicas=1, node_timeout_ms=1000)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class Load:
    """The bounded load, in its own thread: what was acknowledged when, and every attempt's status."""

    target: Proc
    acknowledged: dict[str, float] = field(default_factory=dict)  # text -> when the 200 came
    attempts: list[tuple[float, int]] = field(default_factory=list)
    posts: int = 0
    rounds: int = 0
    enough: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        for n in range(MAX_ROUNDS):
            if n >= ROUNDS and self.enough.is_set():
                return
            for start in range(0, len(PEOPLE), PER_POST):
                texts = {p: f"{p[-3:]}-m{n}" for p in PEOPLE[start : start + PER_POST]}
                body = body_of(*(text_message(p, t) for p, t in texts.items()))
                if not self._deliver(body):
                    return
                now = time.monotonic()
                self.acknowledged.update({t: now for t in texts.values()})
                self.posts += 1
                time.sleep(0.03)
            self.rounds += 1

    def _deliver(self, body: bytes, retry_s: float = 20.0) -> bool:
        deadline = time.monotonic() + retry_s
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                status = httpx.post(self.target.url + "/webhook", content=body, headers=signed(body), timeout=5)
                code = status.status_code
            except httpx.HTTPError:
                code = 0
            self.attempts.append((time.monotonic(), code))
            if code == 200:
                return True
            time.sleep(0.1)
        return False


def test_a_primary_killed_under_load_fails_over_and_nothing_acknowledged_is_lost_or_doubled(
    tmp_path: Path, failover_cluster: LocalCluster, graph: Proc
) -> None:
    nodes = ",".join(f"127.0.0.1:{node.port}" for node in failover_cluster.nodes)
    svc = service(tmp_path, f"redis://{nodes}/0", graph, "a", redis_cluster="true")
    svc.start(ready_path="/ready")
    try:
        run_and_check(failover_cluster, svc, graph)
    finally:
        svc.stop()


def run_and_check(cluster: LocalCluster, svc: Proc, graph: Proc) -> None:
    victim = cluster.primary_of(channel_keys(PEOPLE[0]).state)
    load = Load(svc)
    worker = threading.Thread(target=load.run)
    worker.start()
    try:
        assert wait_for(lambda: load.posts >= 12, within=30), "the load never got going"
        killed_at = time.monotonic()
        cluster.kill9(victim)
        cluster.wait_ok(within=30)  # a replica promoted, all slots served again: no one asked it to
        promoted_at = time.monotonic()
        assert victim.port not in {node.port for node in cluster.primaries()}
        time.sleep(max(0.0, promoted_at + RECOVER_S + 2.0 - time.monotonic()))  # load goes on meanwhile
        load.enough.set()
        worker.join(timeout=120)
        assert not worker.is_alive(), "the load did not finish"
    finally:
        load.stop.set()
        worker.join(timeout=30)

    assert load.rounds >= ROUNDS
    assert len(load.acknowledged) == len(PEOPLE) * load.rounds, "a POST was never acknowledged"
    late = [code for at, code in load.attempts if at > promoted_at + RECOVER_S]
    assert late and set(late) == {200}, f"the service had not recovered {RECOVER_S} s after the failover"
    assert max(load.acknowledged.values()) > promoted_at + RECOVER_S, "the load ended before the failover did"
    assert httpx.get(svc.url + "/ready", timeout=5).status_code == 200

    must = {t for t, at in load.acknowledged.items() if at < killed_at - LOSS_WINDOW_S}

    def answered() -> set[str]:
        return {text.partition(": ")[2] for texts in replies_by_person(graph).values() for text in texts}

    wait_for(lambda: answered() >= set(load.acknowledged), within=30)
    time.sleep(1.0)  # anything still to come (a double) comes now
    replies = replies_by_person(graph)
    got = [text.partition(": ")[2] for texts in replies.values() for text in texts]
    assert len(got) == len(set(got)), "a message was answered twice"
    missing = must - set(got)
    assert not missing, f"{len(missing)} messages acknowledged well before the kill were never answered"
    r = sync_redis.RedisCluster(host="127.0.0.1", port=cluster.alive()[0].port)
    try:
        for person in PEOPLE:
            texts = replies.get(person, [])
            counters = [int(text.partition(":")[0].lstrip("#")) for text in texts]
            assert counters == list(range(1, len(texts) + 1)), person  # handled once each, in order
            version = r.hget(channel_keys(person).state, "v")
            assert int(version or 0) == len(texts), person  # the state counts exactly what was answered
            ours = [t.partition(": ")[2] for t in texts]
            assert ours == sorted(ours, key=lambda t: int(t.rpartition("m")[2])), person  # in the order sent
    finally:
        r.close()
