"""The soak benchmark runs end to end for a few seconds, so it cannot rot: private Redis, sandbox, stub, service."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soak_bench import PERSISTENT, parse_args, pattern_of, slope_per_minute
from tests.conftest import IN_CI, REPO


def test_defaults_are_ten_minutes_on_a_private_redis_into_an_untracked_file() -> None:
    args = parse_args([])
    assert args.minutes == 10 and args.redis_url is None
    assert "results" not in args.output.parts and args.output.parent.name == "out"


def test_slopes_and_key_patterns() -> None:
    assert slope_per_minute([(0, 100), (60, 160), (120, 220)]) == pytest.approx(60)
    assert slope_per_minute([(0, 1)]) is None
    assert pattern_of("channel:{263770001234}:seen") == "channel:{*}:seen"
    assert pattern_of("inbox:{p3}") == "inbox:{p*}" and "inbox:{p*}" in PERSISTENT


def test_a_short_soak_runs_and_finds_no_key_without_a_ttl(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true: redis-server binary missing")
        pytest.skip("redis-server binary missing")
    output = tmp_path / "soak.json"
    command = [sys.executable, "-m", "bench.soak_bench", "--minutes", "0.05", "--rate", "20", "--people", "30"]
    command += ["--sample", "2", "--output", str(output)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(output.read_text())
    assert result["posted"] == 60 and result["statuses"] == {"200": 60}
    assert result["handled"] == 60 and result["drained"] and result["leaks"] == {}
    assert len(result["samples"]) >= 2 and "redis_used_memory_bytes_per_min" in result["slopes"]
    assert "slope rss_kb_per_min.service" in done.stdout
