"""The benchmarks never touch a Redis they did not start unless told to, and their usage lines work as printed."""

from __future__ import annotations

import shutil
import subprocess
import sys
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
