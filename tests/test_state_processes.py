"""Across OS processes and against a store that is down: what only real separation shows."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fakeredis import TcpFakeServer

from app.state.errors import StateUnavailable
from app.state.factory import build_redis, build_store
from app.state.keys import channel_keys
from tests.conftest import REPO, RedisProcess, free_port, make_settings

pytestmark = [pytest.mark.processes, pytest.mark.reliability]

WORKER = Path(__file__).parent / "workers" / "increment.py"


@pytest.fixture
def fake_tcp_url() -> Iterator[str]:
    """fakeredis served over TCP, so two processes share one fake server."""
    port = free_port()
    server = TcpFakeServer(("127.0.0.1", port))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["fakeredis", "redis"])
def shared_url(request: pytest.FixtureRequest) -> str:
    name = "fake_tcp_url" if request.param == "fakeredis" else "real_redis_url"
    return str(request.getfixturevalue(name))


async def test_two_processes_200_increments_each_make_400(shared_url: str) -> None:
    channel = f"2637{time.time_ns() % 10**8:08d}"
    start_at = time.time() + 1.5
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            shared_url,
            channel,
            "200",
            str(start_at),
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=180)
        assert proc.returncode == 0, err.decode()[-2000:]
    redis = build_redis(make_settings(redis_url=shared_url))
    try:
        flow = await redis.hget(channel_keys(channel).state, "flow")
        assert orjson.loads(flow)["data"]["count"] == 400
        assert int(await redis.hget(channel_keys(channel).state, "v")) == 400
    finally:
        await redis.delete(*channel_keys(channel))
        await redis.aclose(close_connection_pool=True)


async def test_unreachable_redis_fails_fast_with_a_typed_error() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens here
    redis = build_redis(make_settings(redis_url=url))
    store = build_store(make_settings(), redis)
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        async with store.session("263771234567", "wamid.1"):
            pass
    assert time.monotonic() - started < 1.5
    await redis.aclose(close_connection_pool=True)


async def test_blackholed_redis_times_out_instead_of_hanging() -> None:
    """A server that accepts and never answers: the socket timeout bounds the wait (two tries: a dead
    connection is retried once, and each try is bounded, including redis-py's connect handshake)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    redis = build_redis(make_settings(redis_url=url, redis_socket_timeout=0.5, redis_connect_timeout=0.5))
    store = build_store(make_settings(), redis)
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        async with store.session("263771234567", "wamid.1"):
            pass
    assert time.monotonic() - started < 3.5
    await redis.aclose(close_connection_pool=True)
    listener.close()


async def test_redis_killed_mid_session_then_back(redis_process: RedisProcess) -> None:
    redis = build_redis(make_settings(redis_url=redis_process.url))
    store = build_store(make_settings(), redis)
    await store.redis_atomic.load_scripts()
    with pytest.raises(StateUnavailable):
        async with store.session("263771234567", "wamid.1") as state:
            state.update_state({"flow_data": {"context": "c", "component": "s"}})
            redis_process.stop()
    redis_process.start()  # a fresh server: no scripts, no state
    async with store.session("263771234567", "wamid.1") as state:
        assert not state.duplicate and state.is_new
    async with store.session("263771234567", "wamid.1") as state:
        assert state.duplicate
    await redis.aclose(close_connection_pool=True)
