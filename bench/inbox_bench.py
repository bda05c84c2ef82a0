"""Benchmark of the durable inbox (issue 8) over real HTTP on loopback, against pywa's like-for-like mode.

    .venv/bin/python -m bench.inbox_bench [--quick] [--output [PATH]] [--redis-url URL] [--profile DIR]

One run measures, with the stub Graph API (bench/graph_stub.py) answering each send at 0 ms and at 300 ms:
- ours (bench/webhook_app.py: create_app in production mode with the EchoRunner) as 1 and 2 uvicorn processes
  on the same Redis, each on its own port; the load generator (bench/loadgen.py) spreads the POSTs across them;
- pywa with the handler awaited before the 200 (bench/pywa_app.py, BENCH_PYWA_MODE=inline), 1 and 2 processes.
These rows are closed loop (`--senders` POSTing one after the other), so they saturate the service. Then, for the
ack latency below saturation, the same pairs at 300 ms paced: an open-loop load at `--paced-rate` POSTs per second
(latency counted from when each POST was due). Per row: webhook ack latency p50/p99/max, handled messages per
second (first POST until the last reply reached the stub; every message must get exactly one reply), and for ours
the Redis commands per handled message (INFO commandstats before and after the measured phase, each time with the
inbox drained; `--monitor` splits them into commands clients sent and commands run inside Lua scripts).

By default it starts its own `redis-server` on a free loopback port (`--save '' --appendonly no`), flushes it
between rows and stops it by PID at the end. With `--redis-url` it uses that database instead and FLUSHES IT
before each row of ours (the command counts are then server-wide: only use a Redis nobody else uses).
Needs the bench extra: `.venv/bin/pip install -e '.[bench]'` (pywa 4.5, aiohttp, py-spy).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from redis import Redis

from bench.webhook_bench import HOST, ROOT, free_port, server, stop, version, wait_ready

RESULTS = Path(__file__).parent / "results" / "inbox_bench.json"
APPS = {
    "ours": ("bench.webhook_app:app", {}),
    # pywa's handler awaited before the 200; "typing" also marks read with the typing indicator, as ours does
    "pywa-inline": ("bench.pywa_app:app", {"BENCH_PYWA_MODE": "inline"}),
    "pywa-typing": ("bench.pywa_app:app", {"BENCH_PYWA_MODE": "inline", "BENCH_PYWA_TYPING": "1"}),
}
PYWA = ("pywa-typing", "pywa-inline")  # the like-for-like reference first
TARGETS = {"ack_p50_ms": 20.0, "ack_p99_ms": 100.0, "vs_pywa": 2.0, "two_process_msg_s": 1000.0}


@contextlib.contextmanager
def raw_stub(port: int, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The stub Graph API's raw front end (bench/graph_stub.py): a third of uvicorn's CPU per request, so the
    stub takes less of the cores the service under test shares with it."""
    with log.open("wb") as out:
        command = [sys.executable, "-m", "bench.graph_stub", "--host", HOST, "--port", str(port)]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            yield process
        finally:
            stop(process)


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[tuple[str, int]]:
    """A redis-server of our own: loopback only, no persistence; stopped by its PID."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not on PATH (or pass --redis-url)")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    command += ["--dir", str(workdir), "--daemonize", "no", "--loglevel", "warning"]
    with (workdir / "redis.log").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
        try:
            client = Redis(host=HOST, port=port, socket_connect_timeout=1)
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(Exception):
                    if client.ping():
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("private redis-server did not start")
                time.sleep(0.05)
            client.close()
            yield f"redis://{HOST}:{port}/0", process.pid
        finally:
            stop(process)


def wait_balanced(redis: Redis, procs: int, partitions: int, within: float = 20.0) -> None:
    """Until the partitions' owner leases are shared by all `procs` processes (each at most its fair share)."""
    share = math.ceil(partitions / procs)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        owners = redis.mget([f"inbox:{{p{n}}}:owner" for n in range(partitions)])
        counts: dict[bytes | str, int] = {}
        for owner in owners:
            if owner is not None:
                counts[owner] = counts.get(owner, 0) + 1
        if len(counts) == procs and sum(counts.values()) == partitions and max(counts.values()) <= share:
            return
        time.sleep(0.1)
    raise RuntimeError(f"inbox partitions not shared by {procs} processes after {within:.0f} s")


def cpu_ticks() -> tuple[int, int]:
    """Machine-wide (busy, total) jiffies from /proc/stat: how much of the host other work took meanwhile."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def revision() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, check=False)
    return done.stdout.decode().strip() or "unknown"


def run_row(
    impl: str, delay_ms: int, procs: int, args: argparse.Namespace, ctx: dict[str, Any], paced: bool = False
) -> dict[str, Any]:
    logs: Path = ctx["logs"]
    tag = f"{impl}-{delay_ms}ms-{procs}p{'-paced' if paced else ''}"
    messages = args.paced_messages if paced else args.messages
    stub_port, ports = free_port(), [free_port() for _ in range(procs)]
    stub_url = f"http://{HOST}:{stub_port}"
    secret = secrets.token_hex(32)
    module, extra_env = APPS[impl]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BENCH_APP_SECRET": secret,
        "BENCH_STUB_URL": stub_url,
        "BENCH_STUB_TOKEN": "bench-token",
        "BENCH_STUB_DELAY_MS": str(delay_ms),
        "BENCH_REDIS_URL": ctx["redis_url"],
        "BENCH_CREDEX_URL": stub_url,
        "BENCH_LOG_LEVEL": args.log_level,
        "INBOX_PARTITIONS": str(args.partitions),
        **extra_env,
    }
    redis: Redis = ctx["redis"]
    if impl == "ours" and ctx["private"]:
        redis.flushall()
    elif impl == "ours":
        redis.flushdb()
    with contextlib.ExitStack() as stack:
        stub = stack.enter_context(raw_stub(stub_port, env, logs / f"{tag}-stub.log"))
        apps = [stack.enter_context(server(module, p, env, logs / f"{tag}-app{i}.log")) for i, p in enumerate(ports)]
        wait_ready(f"{stub_url}/count", stub)
        for app, port in zip(apps, ports, strict=True):
            wait_ready(f"http://{HOST}:{port}/ready", app)
        if impl == "ours":
            wait_balanced(redis, procs, args.partitions)
        profilers = [stack.enter_context(profile(app.pid, logs, f"{tag}-app{i}", args)) for i, app in enumerate(apps)]
        command = [sys.executable, "-m", "bench.loadgen", "--stub", stub_url, "--secret", secret]
        for port in ports:
            command += ["--url", f"http://{HOST}:{port}/webhook"]
        command += ["--messages", str(messages), "--warmup", str(args.warmup), "--senders", str(args.senders)]
        command += ["--rate", str(args.paced_rate)] if paced else []
        command += ["--people", str(args.people), "--seed", str(args.seed), "--watch", f"stub={stub.pid}"]
        command += [arg for i, app in enumerate(apps) for arg in ("--watch", f"app{i}={app.pid}")]
        if impl == "ours":
            command += ["--redis-url", ctx["redis_url"], "--partitions", str(args.partitions)]
            command += ["--monitor"] if args.monitor else []
            if ctx["redis_pid"] is not None:
                command += ["--watch", f"redis={ctx['redis_pid']}"]
        busy0, total0 = cpu_ticks()
        budget = 180 + messages / 20  # generous: 20 msg/s would already be a failure
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=budget, check=False)
        busy1, total1 = cpu_ticks()
        if done.returncode != 0:
            raise RuntimeError(f"loadgen failed for {tag}: {done.stderr.decode()[-2000:]}")
        if any(app.poll() is not None for app in apps):
            raise RuntimeError(f"{tag}: a service process exited during the run; see {logs}")
        for app in apps:  # stop the services first, so that each profiler writes its file
            stop(app)
        for p in profilers:
            if p is not None:
                p.wait(timeout=30)
    row: dict[str, Any] = {"impl": impl, "graph_delay_ms": delay_ms, "processes": procs, "paced": paced}
    row |= json.loads(done.stdout)
    row["host_cpu_busy_fraction"] = (busy1 - busy0) / max(1, total1 - total0)
    row["load_average_after"] = os.getloadavg()[0]
    row.pop("sample_reply_body", None)
    return row


@contextlib.contextmanager
def profile(pid: int, logs: Path, tag: str, args: argparse.Namespace) -> Iterator[subprocess.Popen[bytes] | None]:
    """py-spy on one service process for the whole row, as collapsed stacks (`--profile DIR` only)."""
    if args.profile is None or not tag.startswith("ours"):
        yield None
        return
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    out = args.profile / f"{tag}.txt"
    command = [spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--rate", "200"]
    with (logs / f"{tag}-py-spy.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            time.sleep(1.0)  # let it attach before the load starts
            yield process
        finally:
            if process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=30)
            stop(process)


def verdicts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def find(impl: str, delay: int, procs: int, paced: bool) -> dict[str, Any] | None:
        key = (impl, delay, procs, paced)
        return next((r for r in rows if (r["impl"], r["graph_delay_ms"], r["processes"], r["paced"]) == key), None)

    out: dict[str, Any] = {}
    for r in rows:
        if r["impl"] != "ours":
            continue
        key = f"{r['graph_delay_ms']}ms-{r['processes']}p{'-paced' if r['paced'] else ''}"
        check: dict[str, Any] = {"complete": r["replied_once"] == r["messages"] and r["errors"] == 0}
        if r["graph_delay_ms"] == 300:
            check["ack_ok"] = r["post_p50_ms"] <= TARGETS["ack_p50_ms"] and r["post_p99_ms"] <= TARGETS["ack_p99_ms"]
        if not r["paced"]:
            ratios = {}
            for impl in PYWA:
                ref = find(impl, r["graph_delay_ms"], r["processes"], False)
                if ref:
                    ratios[impl] = r["handled_per_second"] / ref["handled_per_second"]
                    check[f"vs_{impl.replace('-', '_')}"] = ratios[impl]
            like = next((ratios[impl] for impl in PYWA if impl in ratios), None)  # judged like-for-like
            check["vs_pywa_ok"] = like is not None and like >= TARGETS["vs_pywa"]
            if r["processes"] == 2:
                check["two_process_ok"] = r["handled_per_second"] >= TARGETS["two_process_msg_s"]
        out[key] = check
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'impl':11} {'load':>6} {'graph':>5} {'procs':>5} {'msg/s':>6} {'ack p50':>8} {'ack p99':>8} {'ack max':>8} "
        f"{'reply p50':>9} {'once':>6} {'errors':>6} {'order':>5} {'redis/msg':>9}  app CPU/msg"
    )
    for r in rows:
        cpu = " ".join(f"{v:.0f}us" for k, v in r["cpu_us_per_message"].items() if k.startswith("app"))
        redis_calls = r.get("redis_calls_per_handled")
        load = f"{r['rate']:.0f}/s" if r["paced"] else f"c{r['senders']}"
        print(
            f"{r['impl']:11} {load:>6} {r['graph_delay_ms']:4d}ms {r['processes']:5d} {r['handled_per_second']:6.0f} "
            f"{r['post_p50_ms']:8.2f} {r['post_p99_ms']:8.2f} {r['post_max_ms']:8.1f} {r['reply_p50_ms']:9.1f} "
            f"{r['replied_once']:6d} {r['errors']:6d} {r['order_violations']:5d} "
            f"{'' if redis_calls is None else f'{redis_calls:.2f}':>9}  {cpu}"
        )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 messages over 200 people")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--people", type=int)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--delays", type=int, nargs="*", default=[0, 300], help="stub Graph API delays, ms")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--impl", nargs="+", choices=list(APPS), default=list(APPS))
    parser.add_argument("--paced-rate", type=float, default=50.0, help="open-loop rows: POSTs per second")
    parser.add_argument("--paced-messages", type=int, help="open-loop rows: messages per row")
    parser.add_argument("--paced-delays", type=int, nargs="*", default=[300], help="open-loop rows' Graph delays")
    parser.add_argument("--partitions", type=int, default=8, help="INBOX_PARTITIONS of ours")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of our service")
    parser.add_argument("--redis-url", help="use (and flush!) this Redis db instead of a private redis-server")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs (always kept on failure)")
    parser.add_argument("--monitor", action="store_true", help="split Redis commands: client vs inside scripts")
    parser.add_argument("--profile", type=Path, help="py-spy every process of ours into DIR (collapsed stacks)")
    parser.add_argument("--output", type=Path, nargs="?", const=RESULTS, help=f"results JSON (bare: {RESULTS})")
    args = parser.parse_args()
    defaults = (1_000, 100, 200, 300) if args.quick else (10_000, 500, 1_000, 1_500)
    for name, value in zip(("messages", "warmup", "people", "paced_messages"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main() -> int:
    args = parse()
    if importlib.util.find_spec("pywa_async") is None and set(PYWA) & set(args.impl):
        print("pywa is not installed, so its rows are skipped: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        args.impl = [i for i in args.impl if i not in PYWA]
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="inbox_bench."))
    started_at, rev = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), revision()
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        if args.redis_url:
            redis_url, redis_pid = args.redis_url, None
        else:
            redis_url, redis_pid = stack.enter_context(private_redis(work))
        redis = Redis.from_url(redis_url, socket_connect_timeout=2)
        stack.callback(redis.close)
        ctx = {"logs": work, "redis": redis, "redis_url": redis_url, "redis_pid": redis_pid}
        ctx["private"] = not args.redis_url
        try:
            for delay in args.delays:
                for procs in args.processes:
                    for impl in args.impl:
                        print(
                            f"{impl}, Graph at {delay} ms, {procs} process(es): {args.messages} messages after "
                            f"{args.warmup} warm-up ...",
                            file=sys.stderr,
                            flush=True,
                        )
                        rows.append(run_row(impl, delay, procs, args, ctx))
            for delay in args.paced_delays:
                for procs in args.processes:
                    for impl in args.impl:
                        print(
                            f"{impl}, Graph at {delay} ms, {procs} process(es): {args.paced_messages} messages "
                            f"at {args.paced_rate:.0f}/s ...",
                            file=sys.stderr,
                            flush=True,
                        )
                        rows.append(run_row(impl, delay, procs, args, ctx, paced=True))
        except Exception as exc:
            print(f"benchmark failed: {exc}\nlogs in {work}", file=sys.stderr)
            return 1
    if args.keep_logs:
        print(f"service logs kept in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)  # kept above when a run failed
    print_table(rows)
    checks = verdicts(rows)
    print(json.dumps(checks, indent=1))
    meta = {
        "started": started_at,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "revision_at_start": rev,
        "revision_at_end": revision(),
        "mark_read": os.environ.get("WHATSAPP_MARK_READ", "default (on)"),
        "versions": {p: version(p) for p in ("pywa", "uvicorn", "fastapi", "httpx", "aiohttp", "redis", "uvloop")},
        "targets": TARGETS,
    }
    output = args.output or Path(tempfile.mkstemp(prefix="inbox_bench.", suffix=".json")[1])
    output.parent.mkdir(parents=True, exist_ok=True)
    report = {"meta": meta, "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows, "checks": checks}
    output.write_text(json.dumps(report, indent=2))
    print(f"written {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
