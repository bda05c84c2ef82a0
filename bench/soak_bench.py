"""Soak benchmark (issue 12): a steady load for minutes through the real flows; does anything grow?

    .venv/bin/python -m bench.soak_bench [--minutes 10] [--rate 50] [--people 5000] [--redis-url URL] [--output PATH]

It starts, each on a free loopback port and stopped by its PID at the end: a private `redis-server` (unless
`--redis-url`, whose db it FLUSHES), the credex sandbox (`app.credex.sandbox:create_sandbox_app`, its own process,
so its growth is not counted as ours), the stub Graph API (bench/graph_stub.py) and the service itself,
`app.main:app` in production mode: the real flow tables (onboarding, menus, credex-core calls) and the real
CloudApiClient. Then it POSTs signed text webhooks at `--rate` per second (open loop, paced) from `--people`
different numbers in turn for `--minutes`, and every `--sample` seconds records: RSS of each process, Redis
used_memory, the inbox's lag, pending and oldest age (the service's /metrics), messages handled per second
(messages_handled_total) and replies that reached the stub. At the end (after the inbox drained) it SCANs every key
and lists those without a TTL, grouped by pattern: the ones persistent by design are named in PERSISTENT (and in
bench/RESULTS.md), anything else is a leak. Prints the samples, the least-squares slopes of RSS and Redis memory
per minute, and writes JSON (default bench/out/soak_bench.json; bench/results/soak_bench.json for the record).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from app.whatsapp.signature import sign
from bench.private_redis import REDIS_URL_HELP, redis_for
from bench.webhook_bench import HOST, ROOT, UVICORN, free_port, stop, wait_ready

OUT = Path(__file__).parent / "out" / "soak_bench.json"
PERSISTENT = {
    "inbox:{p*}": "the partition's inbox stream, the durable queue: trimmed behind what is pending, capped",
    "inbox:{p*}:dead": "the partition's dead-letter stream: kept for an operator, capped at 10,000",
    "deadletters:replies": "replies the Cloud API never accepted: kept for an operator (GET /admin/dead-letters)",
}
"""Key patterns that are meant to have no TTL, and why. Any other key without one is a leak."""
TEXTS = ("hi", "menu", "1", "balance", "hello", "2", "back", "help")


def rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    if var == 0:
        return None
    return 60 * sum((t - mx) * (v - my) for t, v in points) / var


def pattern_of(key: str) -> str:
    """`channel:{263770001234}:seen` → `channel:{*}:seen`; `inbox:{p3}` → `inbox:{p*}`."""
    key = re.sub(r"\{(?!p\d+\})[^}]*\}", "{*}", key)
    key = re.sub(r"\{p\d+\}", "{p*}", key)
    return re.sub(r"\d{6,}", "*", key)


def persistent_by_design(pattern: str) -> bool:
    return pattern in PERSISTENT


def untimed_keys(redis: Redis) -> dict[str, int]:
    """Patterns of keys with TTL -1, counted (SCAN, never KEYS)."""
    found: dict[str, int] = {}
    for raw in redis.scan_iter(count=1000):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        if redis.ttl(key) == -1:
            pattern = pattern_of(key)
            found[pattern] = found.get(pattern, 0) + 1
    return dict(sorted(found.items()))


def metric(text: str, name: str) -> float:
    """Sum of a Prometheus series over its labels."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            stop(proc)


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until something answers HTTP on the port (the sandbox serves no page that says 200 unauthenticated)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"port {port}: process exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"http://{HOST}:{port}/", timeout=1)
            return
        time.sleep(0.1)
    raise RuntimeError(f"port {port}: nothing listening after {timeout:.0f} s")


def envelope(phone: str, text: str, message_id: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": f"Soak {phone[-4:]}"}, "wa_id": phone}],
        "messages": [
            {
                "from": phone,
                "id": message_id,
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "soak", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


class Load:
    """Open-loop paced POSTs: message n is due at start + n / rate, whatever the answers before it took."""

    def __init__(self, url: str, secret: str, rate: float, people: int) -> None:
        self.url, self.secret, self.rate, self.people = url, secret.encode(), rate, people
        self.sent = 0
        self.statuses: dict[int, int] = {}
        self.errors = 0

    async def run(self, seconds: float) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            start = time.monotonic()
            total = int(seconds * self.rate)
            tasks: set[asyncio.Task[None]] = set()
            for n in range(total):
                due = start + n / self.rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                task = asyncio.create_task(self.post(client, n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                if len(tasks) > 1000:  # bounded: a stalled service slows the load, never grows it without end
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if tasks:
                await asyncio.wait(tasks)

    async def post(self, client: httpx.AsyncClient, n: int) -> None:
        phone = f"26371{n % self.people:07d}"
        body = envelope(phone, TEXTS[(n // self.people) % len(TEXTS)], f"wamid.SOAK{n:09d}")
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(self.secret, body)}
        try:
            response = await client.post(self.url, content=body, headers=headers)
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        except httpx.HTTPError:
            self.errors += 1
        self.sent += 1


async def sample_loop(
    ctx: dict[str, Any], load: Load, seconds: float, every: float, samples: list[dict[str, Any]]
) -> None:
    start = time.monotonic()
    last_t, last_handled = start, 0.0
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            now = time.monotonic()
            text = (await client.get(f"{ctx['service_url']}/metrics")).text
            count = (await client.get(f"{ctx['stub_url']}/count")).json()
            info: dict[str, Any] = ctx["redis"].info("memory")
            handled = metric(text, "messages_handled_total")
            samples.append(
                {
                    "t_s": round(now - start, 1),
                    "rss_kb": {name: rss_kb(pid) for name, pid in ctx["pids"].items()},
                    "redis_used_memory": int(info["used_memory"]),
                    "inbox_lag": metric(text, "inbox_lag"),
                    "inbox_pending": metric(text, "inbox_pending"),
                    "inbox_oldest_age_seconds": metric(text, "inbox_oldest_age_seconds"),
                    "handled_total": handled,
                    "handled_per_second": round((handled - last_handled) / max(1e-9, now - last_t), 1),
                    "replies_at_stub": count["count"],
                    "posted": load.sent,
                }
            )
            last_t, last_handled = now, handled
            if now - start >= seconds:
                return
            await asyncio.sleep(max(0.0, start + len(samples) * every - time.monotonic()))


async def drive(ctx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    seconds = args.minutes * 60
    load = Load(f"{ctx['service_url']}/webhook", ctx["secret"], args.rate, args.people)
    samples: list[dict[str, Any]] = []
    started = time.monotonic()

    async def timed_load() -> float:
        await load.run(seconds)
        return time.monotonic() - started

    load_seconds, _ = await asyncio.gather(timed_load(), sample_loop(ctx, load, seconds, args.sample, samples))
    drained = False
    deadline = time.monotonic() + args.drain
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() < deadline:
            text = (await client.get(f"{ctx['service_url']}/metrics")).text
            if metric(text, "inbox_lag") == 0 and metric(text, "inbox_pending") == 0:
                drained = True
                break
            await asyncio.sleep(0.5)
        final = (await client.get(f"{ctx['service_url']}/metrics")).text
    return {"load": load, "load_seconds": load_seconds, "samples": samples, "drained": drained, "final_metrics": final}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    secret = secrets.token_hex(32)
    with contextlib.ExitStack() as stack:
        redis_url, redis_pid = stack.enter_context(redis_for(args.redis_url))
        redis = Redis.from_url(redis_url, socket_connect_timeout=2)
        stack.callback(redis.close)
        redis.flushdb()
        sandbox_port, stub_port, service_port = free_port(), free_port(), free_port()
        sandbox_url, stub_url = f"http://{HOST}:{sandbox_port}", f"http://{HOST}:{stub_port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "APP_ENV": "production",
            "LOG_LEVEL": args.log_level,
            "REDIS_URL": redis_url,
            "WHATSAPP_APP_SECRET": secret,
            "WHATSAPP_VERIFY_TOKEN": "soak-verify-token",
            "WHATSAPP_ACCESS_TOKEN": "bench-token",
            "WHATSAPP_API_URL": stub_url,
            "WHATSAPP_PHONE_NUMBER_ID": "1122334455667",
            "CREDEX_API_URL": sandbox_url,
            "CREDEX_CLIENT_API_KEY": "sandbox-client-key",
            "BENCH_STUB_TOKEN": "bench-token",
        }
        factory = [*UVICORN, "--factory", "--port"]
        sandbox = stack.enter_context(
            process([*factory, str(sandbox_port), "app.credex.sandbox:create_sandbox_app"], env, work / "sandbox.log")
        )
        stub = stack.enter_context(
            process([*UVICORN, "--port", str(stub_port), "bench.graph_stub:app"], env, work / "stub.log")
        )
        service = stack.enter_context(
            process([*UVICORN, "--port", str(service_port), "app.main:app"], env, work / "service.log")
        )
        wait_listening(sandbox_port, sandbox)
        wait_ready(f"{stub_url}/count", stub)
        wait_ready(f"http://{HOST}:{service_port}/ready", service)
        pids = {"service": service.pid, "sandbox": sandbox.pid, "graph_stub": stub.pid}
        if redis_pid is not None:
            pids["redis"] = redis_pid
        ctx = {"redis": redis, "pids": pids, "secret": secret, "stub_url": stub_url}
        ctx["service_url"] = f"http://{HOST}:{service_port}"
        outcome = asyncio.run(drive(ctx, args))
        if service.poll() is not None:
            raise RuntimeError(f"the service exited during the run; see {work}")
        untimed = untimed_keys(redis)
    load: Load = outcome["load"]
    samples: list[dict[str, Any]] = outcome["samples"]
    slopes: dict[str, float | None] = {
        f"rss_kb_per_min.{name}": slope_per_minute(
            [(s["t_s"], s["rss_kb"][name]) for s in samples if s["rss_kb"].get(name) is not None]
        )
        for name in pids
    }
    slopes["redis_used_memory_bytes_per_min"] = slope_per_minute([(s["t_s"], s["redis_used_memory"]) for s in samples])
    final = outcome["final_metrics"]
    return {
        "posted": load.sent,
        "load_seconds": round(outcome["load_seconds"], 1),
        "achieved_rate": round(load.sent / max(1e-9, outcome["load_seconds"]), 1),
        "statuses": load.statuses,
        "post_errors": load.errors,
        "handled": metric(final, "messages_handled_total"),
        "flow_errors": metric(final, "flow_errors_total"),
        "drained": outcome["drained"],
        "samples": samples,
        "slopes": slopes,
        "keys_without_ttl": untimed,
        "leaks": {p: n for p, n in untimed.items() if not persistent_by_design(p)},
        "persistent_by_design": PERSISTENT,
    }


def print_report(result: dict[str, Any]) -> None:
    names = list(result["samples"][0]["rss_kb"]) if result["samples"] else []
    print(
        f"{'t s':>6} {'posted':>7} {'msg/s':>6} {'lag':>5} {'pend':>5} {'oldest':>6} {'redis MB':>8} "
        + " ".join(f"{n + ' MB':>12}" for n in names)
    )
    for s in result["samples"]:
        rss = " ".join(f"{(s['rss_kb'][n] or 0) / 1024:12.1f}" for n in names)
        print(
            f"{s['t_s']:6.0f} {s['posted']:7d} {s['handled_per_second']:6.1f} {s['inbox_lag']:5.0f} "
            f"{s['inbox_pending']:5.0f} {s['inbox_oldest_age_seconds']:6.1f} {s['redis_used_memory'] / 1e6:8.2f} {rss}"
        )
    print(f"posted {result['posted']} in {result['load_seconds']} s: {result['achieved_rate']}/s offered on average")
    print(
        f"posted {result['posted']} ({result['statuses']}, {result['post_errors']} errors), handled "
        f"{result['handled']:.0f}, flow errors {result['flow_errors']:.0f}, drained: {result['drained']}"
    )
    for name, value in result["slopes"].items():
        print(f"slope {name}: {'n/a' if value is None else f'{value:+.1f}'}")
    print(f"keys without TTL: {result['keys_without_ttl']}")
    print(f"leaks (no TTL, not persistent by design): {result['leaks'] or 'none'}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the steady load (default 10)")
    parser.add_argument("--rate", type=float, default=50.0, help="webhook POSTs per second, one message each")
    parser.add_argument("--people", type=int, default=5000, help="distinct senders, in turn")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds allowed for the inbox to drain at the end")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the service")
    parser.add_argument("--redis-url", help=REDIS_URL_HELP)
    parser.add_argument("--output", type=Path, default=OUT, help=f"results JSON (default {OUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="soak_bench."))
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    try:
        result = run(args, work)
    except Exception as exc:
        print(f"soak failed: {exc}\nlogs in {work}", file=sys.stderr)
        return 1
    result = {
        "meta": {
            "started": started,
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "load_average_after": os.getloadavg(),
            "runner": "flows (app.main:app, production mode, credex sandbox in its own process)",
        },
        "args": {k: str(v) for k, v in vars(args).items()},
        **result,
    }
    print_report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1))
    print(f"written {args.output} (service logs in {work})")
    return 0 if not result["leaks"] and result["drained"] else 2


if __name__ == "__main__":
    sys.exit(main())
