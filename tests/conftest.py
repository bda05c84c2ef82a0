"""Fixtures: every state test runs against fakeredis AND a real Redis server (and, in the modules named in
CLUSTER_MODULES, a real 3-primary Redis Cluster too: tests/cluster.py).

Real Redis is REDIS_TEST_URL (default 127.0.0.1:6379, a db from 1 to 12 picked by process id). If it does
not answer, a private `redis-server` is started on a free port. With CI=true and no Redis at all, the run
fails: never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import fakeredis
import pytest
import redis as sync_redis
from redis.asyncio import BlockingConnectionPool, Redis

from app.config import Settings
from app.state.cluster import close
from app.state.factory import build_redis, build_store
from app.state.store import StateStore
from tests.cluster import LocalCluster, binaries

if TYPE_CHECKING:
    from tests.webhook_kit import Bot

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisProcess:
    """A redis-server of the test's own, which the test may kill and restart."""

    port: int
    workdir: str
    proc: subprocess.Popen[bytes] | None = None
    aof: bool = False
    """Append-only file, fsync on every write: a restart keeps everything acknowledged."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.aof else "no",
                "--appendfsync",
                "always",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = sync_redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except sync_redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def _answers(url: str) -> bool:
    try:
        return bool(sync_redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (sync_redis.RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def real_redis_url() -> Iterator[str]:
    # A db per test process (1-12; the benches use 13 and 14), so parallel runs on one machine don't flush each other.
    url = os.environ.get("REDIS_TEST_URL", f"redis://127.0.0.1:6379/{1 + os.getpid() % 12}")
    if _answers(url):
        yield url
        return
    if shutil.which("redis-server"):
        server = RedisProcess(free_port(), tempfile.mkdtemp(prefix="redis-test-"))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()
        return
    message = f"no Redis at {url} and no redis-server binary to start one"
    if IN_CI:
        pytest.fail(f"CI=true: {message}; real-Redis tests must run in CI")
    pytest.skip(message)


@pytest.fixture(params=[False], ids=["memory"])
def redis_process(request: pytest.FixtureRequest) -> Iterator[RedisProcess]:
    """A private redis-server; parametrize indirectly with True for one with an fsync'ed append-only file."""
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true: redis-server binary missing")
        pytest.skip("redis-server binary missing")
    server = RedisProcess(free_port(), tempfile.mkdtemp(prefix="redis-own-"), aof=bool(request.param))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"app_env": "development", "state_busy_wait_seconds": 2.0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


CLUSTER_MODULES = frozenset(
    {"test_state_engine", "test_inbox", "test_intents", "test_intents_kinds", "test_operations", "test_notify"}
)
"""The modules whose store tests also run on the cluster: the state engine, the inbox and reply outbox, the money
intents, the admin routes and metrics, /notify and its rate limits. The flow modules are left out to bound the
time: they use the store through the same calls these cover."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    backends: list[object] = ["fakeredis", "redis"]
    if metafunc.module.__name__.rpartition(".")[2] in CLUSTER_MODULES:
        backends.append(pytest.param("cluster", marks=pytest.mark.cluster))
    metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A real Redis Cluster, 3 primaries and no replicas, shared by the session's cluster tests."""
    cluster = LocalCluster(masters=3)
    if binaries() is None:
        if IN_CI:
            pytest.fail("CI=true: redis-server or redis-cli missing; the cluster tests must run in CI")
        pytest.skip("redis-server or redis-cli missing")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def redis_client(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    if backend == "fakeredis":
        client: Redis = fakeredis.FakeAsyncRedis(  # the pool the app uses: bursts wait for a connection
            server=fakeredis.FakeServer(), connection_pool_class=BlockingConnectionPool, max_connections=64, timeout=2
        )
    elif backend == "cluster":
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        client = build_redis(make_settings(redis_url=cluster.url, redis_cluster=True))
        await client.flushdb()  # on every primary
    else:
        url = request.getfixturevalue("real_redis_url")
        client = build_redis(make_settings(redis_url=url))
        await client.flushdb()
    try:
        yield client
    finally:
        if backend != "fakeredis":
            await client.flushdb()
        await close(client)  # a pool passed in is not closed otherwise: fds leak


@pytest.fixture
async def store(redis_client: Redis) -> StateStore:
    s = build_store(make_settings(), redis_client)
    await s.redis_atomic.load_scripts()
    return s


@pytest.fixture
async def bot(redis_client: Redis) -> AsyncIterator[Bot]:
    """The real service (flow tables, credex sandbox, dev outbox) on the test's store; test modules that need
    another service (the EchoRunner, an admin token) define their own `bot`."""
    from tests.flows_kit import bot_with

    async with bot_with(redis_client) as b:
        yield b
