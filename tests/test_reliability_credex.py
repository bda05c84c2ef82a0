"""credex-core faults on the wire, through a real service process: a 500 before and after the write, a timeout
and a connection reset after the write (the fault proxy in tests/workers/credex_faults.py sits between the
service and the sandbox, both their own processes). Each time: at most one offer exists however often the person
tries, and what the person is told is true (never "sent" for an offer that was not made, never "nothing changed"
for one that was).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RedisProcess, free_port
from tests.procs import PYTHON, Meta, Proc, graph_stub, sandbox_proc, service, wait_for
from tests.webhook_kit import reply_message

pytestmark = [pytest.mark.processes, pytest.mark.reliability]
ALICE, BOB = "263770000001", "263770000002"
CREDEX_TIMEOUT_S = 1.5


@dataclass
class Rig:
    meta: Meta
    graph: Proc
    proxy: Proc
    svc: Proc

    def said(self, to: str = ALICE) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(self.graph.url + "/sent", timeout=5).json()["sent"]
        return [s for s in items if s["to"] == to]

    def step(self, message: dict[str, Any], expect: str, within: float = 15) -> str:
        """Posts one message and waits for a reply after it that contains `expect`; returns the replies' text."""
        before = len(self.said())
        assert self.meta.post(self.svc, message) == 200

        def new_text() -> str:
            return "\n".join(json.dumps(s["payload"]) for s in self.said()[before:])

        assert wait_for(lambda: expect in new_text(), within=within), [s["text"] for s in self.said()[before:]]
        return new_text()

    def creates(self) -> int:
        return int(httpx.get(self.proxy.url + "/proxy/count", timeout=5).json().get("/createCredex", 0))

    def arm(self, mode: str, seconds: float = 0) -> None:
        fault = {"path": "/createCredex", "mode": mode, "times": 1, "seconds": seconds}
        httpx.post(self.proxy.url + "/proxy/fault", content=json.dumps(fault), timeout=5).raise_for_status()

    def to_confirmation(self, amount: str) -> str:
        """Alice: menu → Offer secured → amount → Bob; returns the id of the Sign and send button."""
        self.step(text("menu"), "offer_secured")
        self.step(reply_message(ALICE, "offer_secured", kind="list_reply"), "How much")
        self.step(text(amount), "handle")
        self.step(text(BOB), "yes:")
        for item in reversed(self.said()):
            buttons = ((item["payload"].get("interactive") or {}).get("action") or {}).get("buttons") or []
            for b in buttons:
                if b["reply"]["id"].startswith("yes:"):
                    return str(b["reply"]["id"])
        raise AssertionError("no Sign and send button")


def text(body: str) -> dict[str, Any]:
    return {"from": ALICE, "id": f"wamid.{os.urandom(8).hex()}", "type": "text", "text": {"body": body}}


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    """One Redis, Graph stub, sandbox, fault proxy and service for the module: each test uses its own amount."""
    started: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            redis = RedisProcess(free_port(), tmp_dir)
            redis.start()
            started.append(redis)
            graph = graph_stub(tmp)
            graph.start(ready_path="/sent")
            started.append(graph)
            sandbox = sandbox_proc(tmp)
            sandbox.start(ready_path="/docs")
            started.append(sandbox)
            port = free_port()
            env = {**os.environ, "FAULT_UPSTREAM": sandbox.url}
            proxy = Proc([PYTHON, "-m", "tests.workers.credex_faults", str(port)], env, port, tmp / "proxy.log")
            proxy.start(ready_path="/proxy/count")
            started.append(proxy)
            settings = {
                "credex_api_url": proxy.url,
                "credex_client_api_key": "sandbox-client-key",
                "credex_timeout_seconds": CREDEX_TIMEOUT_S,
                "service_runner": "flows",
            }
            svc = service(tmp, redis.url, graph, "a", **settings)
            svc.start()
            started.append(svc)
            rig = Rig(Meta(), graph, proxy, svc)
            rig.step(text("hi"), "offer_secured", within=20)
            yield rig
        finally:
            for proc in reversed(started):
                proc.stop()


def sign_with_fault(rig: Rig, mode: str, amount: str, seconds: float = 0) -> str:
    yes = rig.to_confirmation(amount)
    rig.arm(mode, seconds)
    return rig.step(reply_message(ALICE, yes, title="Sign and send"), "USD", within=20)


def redo_and_expect_one(rig: Rig, amount: str, writes_before: int) -> None:
    """The same offer again from the menu: recognised (or made, if it never was), and then exactly one."""
    yes = rig.to_confirmation(amount)
    told = rig.step(reply_message(ALICE, yes, title="Sign and send"), "was sent", within=20)
    assert f"offer of {amount}.00 USD was sent" in told
    assert rig.creates() == writes_before + 1


def test_a_500_before_the_write_makes_nothing_and_does_not_say_sent(rig: Rig) -> None:
    before = rig.creates()
    told = sign_with_fault(rig, "500_before", "11")
    assert "was sent" not in told
    assert rig.creates() == before  # nothing reached credex-core
    redo_and_expect_one(rig, "11", before)


@pytest.mark.parametrize(
    ("mode", "amount", "seconds"),
    [("500_after", "12", 0), ("reset_after", "13", 0), ("timeout_after", "14", CREDEX_TIMEOUT_S + 1.5)],
)
def test_a_fault_after_the_write_never_makes_a_second_offer(rig: Rig, mode: str, amount: str, seconds: float) -> None:
    before = rig.creates()
    told = sign_with_fault(rig, mode, amount, seconds)
    assert rig.creates() == before + 1  # credex-core made it; its answer was lost
    assert "nothing was changed" not in told.lower()  # the truth: it may well have been made
    assert "was sent" in told or "could not confirm" in told, told[-600:]
    redo_and_expect_one(rig, amount, before)
