"""Processes for the fault tests: the real service and a faulty Graph API, each an OS process of its own on a
free loopback port, started and stopped (or killed with SIGKILL) by PID."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, free_port
from tests.webhook_kit import APP_SECRET, body_of, signed, text_message

PYTHON = sys.executable


def _wait_http(url: str, deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Proc:
    args: list[str]
    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/health") -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            _wait_http(self.url + ready_path)
        except BaseException:
            self.stop()  # never leave a process behind
            raise

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def uvicorn_args(target: str, port: int, factory: bool = False) -> list[str]:
    args = [PYTHON, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    return [*args, "--factory"] if factory else args


def graph_stub(tmp: Path) -> Proc:
    port = free_port()
    return Proc(uvicorn_args("tests.workers.graph_faults:app", port), dict(os.environ), port, tmp / "graph.log")


def sandbox_proc(tmp: Path) -> Proc:
    """The credex-core sandbox as its own process, as credex-core is in production (started by the caller)."""
    port = free_port()
    args = uvicorn_args("app.credex.sandbox:create_sandbox_app", port, factory=True)
    return Proc(args, dict(os.environ), port, tmp / "sandbox.log")


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[Proc]:
    """The faulty Graph API stub, its own process, for the duration of one test."""
    stub = graph_stub(tmp_path)
    stub.start(ready_path="/sent")
    try:
        yield stub
    finally:
        stub.stop()


def service(tmp: Path, redis_url: str, graph: Proc, name: str, **settings: Any) -> Proc:
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "REDIS_URL": redis_url,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "verify",
        "WHATSAPP_ACCESS_TOKEN": "test-token",
        "WHATSAPP_API_URL": graph.url,
        "INBOX_OWNER_TTL_MS": "1500",
        "STATE_LEASE_MS": "3000",
        "STATE_LEASE_RENEW_MARGIN_MS": "2500",
        "STATE_BUSY_WAIT_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    env.update({k.upper(): str(v) for k, v in settings.items()})
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return Proc(uvicorn_args("tests.workers.service:build", port, factory=True), env, port, tmp / f"{name}.log")


@dataclass
class Meta:
    """Posts signed webhooks the way Meta does: a 503 or a refused connection is retried (bounded)."""

    statuses: list[int] = field(default_factory=list)

    def post(self, target: Proc, *messages: dict[str, Any], retry_s: float = 0.0) -> int:
        body = body_of(*messages)
        deadline = time.monotonic() + retry_s
        while True:
            try:
                status = httpx.post(target.url + "/webhook", content=body, headers=signed(body), timeout=5).status_code
            except httpx.HTTPError:
                status = 0
            self.statuses.append(status)
            if status == 200 or time.monotonic() >= deadline:
                return status
            time.sleep(0.1)

    def say(self, target: Proc, sender: str, text: str, message_id: str | None = None, retry_s: float = 0.0) -> int:
        return self.post(target, text_message(sender, text, message_id), retry_s=retry_s)


def sent(graph: Proc, to: str | None = None) -> list[str]:
    items = httpx.get(graph.url + "/sent", timeout=5).json()["sent"]
    return [item["text"] for item in items if to is None or item["to"] == to]


def wait_for(predicate: Any, within: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


async def wait_for_async(predicate: Any, within: float, step: float = 0.02) -> bool:
    """`wait_for` inside an event loop: the loop goes on while it waits."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())


def set_fault(graph: Proc, **fault: Any) -> None:
    httpx.post(graph.url + "/faults", content=json.dumps(fault), timeout=5).raise_for_status()
