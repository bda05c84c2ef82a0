"""Webhook benchmark over real HTTP on loopback: our service against a minimal pywa bot.

    .venv/bin/pip install -e '.[bench]'      # pywa, aiohttp, py-spy
    .venv/bin/python -m bench.webhook_bench [--messages 10000] [--warmup 500] [--senders 50] [--people 1000]
                                            [--impl ours pywa pywa-inline] [--output PATH] [--redis-url URL]

For each implementation: a stub Graph API (bench/graph_stub.py) and the app each run under uvicorn with one worker
(uvloop, httptools, no access log) in their own processes; the load generator (bench/loadgen.py) runs in a third
process and POSTs signed text-message webhooks. Ours is bench/webhook_app.py (create_app in production mode, a real
Redis, EchoRunner); pywa's is bench/pywa_app.py. The Redis is a private redis-server started on a free port and
stopped at the end, unless --redis-url names one, whose db is then flushed. Prints a table and writes the figures to
--output (default bench/out/webhook_bench.json; the tracked bench/results/webhook_bench.json only when named)."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from redis import Redis

from bench.private_redis import REDIS_URL_HELP, redis_for

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = Path(__file__).parent / "out" / "webhook_bench.json"
HOST = "127.0.0.1"
UVICORN = ["-m", "uvicorn", "--host", HOST, "--workers", "1", "--loop", "uvloop", "--http", "httptools"]
UVICORN += ["--no-access-log", "--log-level", "warning"]
IMPLS: dict[str, tuple[str, dict[str, str]]] = {
    "ours": ("bench.webhook_app:app", {}),
    "pywa": ("bench.pywa_app:app", {}),  # pywa's FastAPI integration: handler in a background task
    "pywa-inline": ("bench.pywa_app:app", {"BENCH_PYWA_MODE": "inline"}),  # handler awaited before the 200
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # only ever http://127.0.0.1
        return int(r.status), r.read()


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        with contextlib.suppress(OSError):
            if get(url)[0] == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url}: not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def server(module: str, port: int, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *UVICORN, "--port", str(port), module], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            yield process
        finally:
            stop(process)


def redis_pid(client: Redis, known: int | None) -> int | None:
    """The server's PID, to measure its CPU: known for a private server, else asked (if it runs on this host)."""
    if known is not None:
        return known
    info: dict[str, Any] = client.info("server")
    pid = info.get("process_id")
    return int(pid) if pid and Path(f"/proc/{pid}").exists() else None


def run_impl(
    name: str, args: argparse.Namespace, logs: Path, redis: Redis, redis_url: str, pid: int | None
) -> dict[str, Any]:
    stub_port, app_port = free_port(), free_port()
    stub_url, app_url = f"http://{HOST}:{stub_port}", f"http://{HOST}:{app_port}"
    secret = secrets.token_hex(32)
    module, extra_env = IMPLS[name]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BENCH_APP_SECRET": secret,
        "BENCH_STUB_URL": stub_url,
        "BENCH_STUB_TOKEN": "bench-token",
        "BENCH_REDIS_URL": redis_url,
        "BENCH_CREDEX_URL": stub_url,
        "BENCH_LOG_LEVEL": args.log_level,
        **extra_env,
    }
    if name == "ours":
        redis.flushdb()
    with (
        server("bench.graph_stub:app", stub_port, env, logs / f"{name}-stub.log") as stub,
        server(module, app_port, env, logs / f"{name}-app.log") as app,
    ):
        wait_ready(f"{stub_url}/count", stub)
        wait_ready(f"{app_url}/ready", app)
        watch = [f"app={app.pid}", f"stub={stub.pid}"]
        if name == "ours" and (server_pid := redis_pid(redis, pid)) is not None:
            watch.append(f"redis={server_pid}")
        command = [sys.executable, "-m", "bench.loadgen", "--url", f"{app_url}/webhook", "--stub", stub_url]
        command += ["--secret", secret, "--messages", str(args.messages), "--warmup", str(args.warmup)]
        command += ["--senders", str(args.senders), "--people", str(args.people), "--seed", str(args.seed)]
        for w in watch:
            command += ["--watch", w]
        budget = 120 + args.messages / 50  # generous: 50 msg/s would already be a failure
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=budget, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"loadgen failed for {name}: {done.stderr.decode()[-2000:]}")
        row: dict[str, Any] = {"impl": name, **json.loads(done.stdout)}
        if app.poll() is not None:
            raise RuntimeError(f"{name} exited during the run; see {logs}")
    return row


def version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'impl':11} {'msgs/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'reply p50':>9} {'reply p99':>9} "
        f"{'errors':>6} {'replies':>8} {'once':>6} {'app CPU/msg':>11}"
    )
    for r in rows:
        print(
            f"{r['impl']:11} {r['handled_per_second']:7.0f} {r['post_p50_ms']:7.2f} {r['post_p99_ms']:7.2f} "
            f"{r['reply_p50_ms']:9.2f} {r['reply_p99_ms']:9.2f} {r['errors']:6d} {r['stub_replies']:8d} "
            f"{r['replied_once']:6d} {r['cpu_us_per_message']['app']:9.0f}us"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--redis-url", default=None, help=REDIS_URL_HELP)
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of our service (production default INFO)")
    parser.add_argument("--impl", nargs="+", choices=list(IMPLS), default=list(IMPLS))
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where the JSON figures go (default {OUTPUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = list(dict.fromkeys(args.impl))
    if importlib.util.find_spec("pywa_async") is None and any(n.startswith("pywa") for n in names):
        print("pywa is not installed, so its rows are skipped: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        names = [n for n in names if not n.startswith("pywa")]
    if not names:
        return 1
    if importlib.util.find_spec("aiohttp") is None:
        print("the load generator needs aiohttp: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 1
    rows: list[dict[str, Any]] = []
    logs = Path(tempfile.mkdtemp(prefix="webhook_bench."))
    try:
        with redis_for(args.redis_url) as (redis_url, pid):
            redis = Redis.from_url(redis_url, socket_connect_timeout=2)
            try:
                redis.ping()
                for name in names:
                    print(f"running {name}: {args.messages} messages after {args.warmup} warm-up ...", file=sys.stderr)
                    rows.append(run_impl(name, args, logs, redis, redis_url, pid))
            finally:
                redis.close()
    except Exception as exc:
        print(f"benchmark failed: {exc}\nserver logs in {logs}", file=sys.stderr)
        return 1
    shutil.rmtree(logs, ignore_errors=True)  # kept above when a run failed
    print_table(rows)
    meta = {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {p: version(p) for p in ("pywa", "uvicorn", "fastapi", "httpx", "aiohttp", "redis", "uvloop")},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    where = "private redis-server" if args.redis_url is None else "given by --redis-url"
    report = {"meta": meta, "args": vars(args) | {"output": str(args.output), "redis_url": where}, "rows": rows}
    args.output.write_text(json.dumps(report, indent=2))
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
