"""The benchmarks never touch a Redis they did not start unless told to, and their usage lines work as printed."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as sync_redis

from bench import state_bench, webhook_bench
from bench.private_redis import private_redis
from tests.conftest import IN_CI, REPO


@pytest.mark.parametrize("bench", [state_bench, webhook_bench], ids=["state_bench", "webhook_bench"])
def test_defaults_target_no_existing_redis_and_no_tracked_file(bench: object) -> None:
    args = bench.parse_args([])  # type: ignore[attr-defined]
    assert args.redis_url is None
    assert "results" not in args.output.parts and args.output.parent.name == "out"
    chosen = bench.parse_args(["--redis-url", "redis://10.0.0.1:6380/3", "--output", "x.json"])  # type: ignore[attr-defined]
    assert chosen.redis_url == "redis://10.0.0.1:6380/3" and chosen.output == Path("x.json")


def test_the_app_under_benchmark_has_no_default_redis() -> None:
    source = (REPO / "bench" / "webhook_app.py").read_text()
    assert "6379" not in source and 'os.environ["BENCH_REDIS_URL"]' in source


@pytest.mark.parametrize("module", ["bench.state_bench", "bench.webhook_bench"])
def test_usage_lines_work_as_printed(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"python -m {module}" in result.stdout and "--redis-url" in result.stdout and "--output" in result.stdout
    doc = (REPO / Path(*module.split("."))).with_suffix(".py").read_text()
    assert f".venv/bin/python -m {module}" in doc


def test_private_redis_runs_on_its_own_port_and_is_stopped() -> None:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true: redis-server binary missing")
        pytest.skip("redis-server binary missing")
    with private_redis() as (url, pid):
        assert ":6379/" not in url
        client = sync_redis.Redis.from_url(url)
        assert client.info("server")["process_id"] == pid
        client.close()
    assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_readme_installs_the_bench_extra_editable() -> None:
    readme = (REPO / "README.md").read_text()
    assert "pip install -e '.[bench]'" in readme and "pip install '.[bench]'" not in readme


async def test_raw_stub_and_raw_poster_speak_http_like_the_asgi_stub(tmp_path: Path) -> None:
    """The inbox bench's light harness: the raw stub records what the ASGI stub records, answers keep-alive
    requests in order (also after a delay), and RawPoster reuses its connections and reports statuses."""
    import httpx

    from bench.graph_stub import Stub
    from bench.loadgen import RawPoster
    from tests.procs import PYTHON, Proc, free_port

    port = free_port()
    stub = Proc([PYTHON, "-m", "bench.graph_stub", "--port", str(port)], {**os.environ}, port, tmp_path / "stub.log")
    stub.start(ready_path="/count")
    try:
        poster = RawPoster([f"{stub.url}/v21.0/123/messages", f"{stub.url}/nowhere"], timeout=10)
        auth = {"authorization": "Bearer bench-token", "content-type": "application/json"}
        reply = b'{"to":"263770000001","type":"text","text":{"body":"hello k42"}}'
        statuses = [await poster.post(*poster.request(0, reply, auth)) for _ in range(3)]
        statuses.append(await poster.post(*poster.request(0, b'{"status":"read"}', auth)))
        statuses.append(await poster.post(*poster.request(0, reply, {})))  # no token
        statuses.append(await poster.post(*poster.request(1, reply, auth)))  # unknown path
        assert statuses == [200, 200, 200, 200, 401, 404]
        assert poster.opened == 2  # one connection per url, reused
        async with httpx.AsyncClient(base_url=stub.url) as http:
            counts = (await http.get("/count")).json()
            assert counts == {"count": 3, "unauthorized": 1, "connections": 1, "reads": 1}  # /messages only
            replies = (await http.get("/replies")).json()
            assert [m for m, _ in replies["replies"]] == [42, 42, 42] and replies["last"]["to"] == "263770000001"
            assert (await http.post("/delay?ms=150")).json() == {"delay_ms": 150}
            before = time.monotonic()
            delayed = await asyncio.gather(*(poster.post(*poster.request(0, reply, auth)) for _ in range(3)))
            assert delayed == [200, 200, 200] and time.monotonic() - before >= 0.15
        poster.close()
    finally:
        stub.stop()
    asgi = Stub()
    status, answer, delay = asgi.answer(
        "POST", "/v21.0/123/messages", b"", {b"authorization": b"Bearer bench-token"}, reply, ("127.0.0.1", 1)
    )
    assert (status, delay, answer["messages"][0]["id"]) == (200, 0.0, "wamid.stub.1")
