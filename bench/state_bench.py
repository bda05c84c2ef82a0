"""State engine benchmark on a real Redis: round trips, throughput, latency and lost updates.

    .venv/bin/python -m bench.state_bench [--messages 20000] [--channels 1000] [--output PATH] [--redis-url URL]

Runs on a private redis-server started on a free port (stopped at the end) unless --redis-url names one, whose db
is then flushed. Prints a table and writes the figures to --output (default bench/out/state_bench.json; the
tracked bench/results/state_bench.json only when named). Compares our begin/commit engine with the seed's
WATCH/MULTI pattern and a 4-command get/set storage (bench/state_references.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import uvloop
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import Connection

from app.config import Settings
from app.state.factory import build_store
from app.state.store import StateStore
from bench.private_redis import REDIS_URL_HELP, NoRedisServer, redis_for
from bench.state_references import FourCommandReference, WatchMultiReference

OUTPUT = Path(__file__).parent / "out" / "state_bench.json"


class CountingConnection(Connection):
    """Counts round trips: every packed send to the server is one, however many commands it carries."""

    sends = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        await super().send_packed_command(command, check_health)


class Impl(Protocol):
    name: str

    async def handle(self, channel: str, message_id: str) -> None: ...

    async def count(self, channel: str) -> int: ...


class Ours:
    name = "ours (begin/commit)"

    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def handle(self, channel: str, message_id: str) -> None:
        async with self.store.session(channel, message_id) as state:
            if state.duplicate:
                return
            data = state.get_flow_state().data
            state.update_state({"flow_data": {"data": {"count": int(data.get("count", 0)) + 1}}})

    async def count(self, channel: str) -> int:
        ok, state, _ = await self.store.atomic.execute_atomic(channel, "get")
        return int(state.flow_data.data["count"]) if ok and state else 0


class OursLeaseOnly(Ours):
    """A fresh StateStore per message: no in-process queueing, every handler races for the Redis lease,
    as workers in separate processes do."""

    name = "ours, lease only"

    async def handle(self, channel: str, message_id: str) -> None:
        await Ours(StateStore(self.store.atomic)).handle(channel, message_id)


async def run_load(
    handle: Callable[[str, str], Awaitable[None]], messages: list[tuple[str, str]], concurrency: int
) -> dict[str, float]:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            channel, mid = queue.get_nowait()
            started = time.perf_counter()
            await handle(channel, mid)
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    return {
        "messages": len(messages),
        "per_second": len(messages) / elapsed,
        "client_cpu_us": cpu / len(messages) * 1e6,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def lost_updates(impl: Impl, tasks: int) -> int:
    channel = f"lost{random.randrange(10**9)}"
    await asyncio.gather(*(impl.handle(channel, f"{channel}.{n}") for n in range(tasks)))
    return tasks - await impl.count(channel)


async def round_trips(impl: Impl, n: int = 200) -> float:
    CountingConnection.sends = 0
    for i in range(n):
        await impl.handle(f"rt{i}", f"rt.{i}.{random.randrange(10**9)}")
    return CountingConnection.sends / n


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.state_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=None, help=REDIS_URL_HELP)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where the JSON figures go (default {OUTPUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with redis_for(args.redis_url) as (url, _pid):
            rows = uvloop.run(measure(args, url))
    except NoRedisServer as exc:
        print(f"benchmark not run: {exc}", file=sys.stderr)
        return 1
    report(args, rows)
    return 0


async def measure(args: argparse.Namespace, redis_url: str) -> list[dict[str, Any]]:
    pool = BlockingConnectionPool.from_url(redis_url, max_connections=64, connection_class=CountingConnection)
    redis = Redis(connection_pool=pool)
    await redis.flushdb()
    settings = Settings(app_env="development", redis_url=redis_url)
    store = build_store(settings, redis)
    await store.redis_atomic.load_scripts()
    impls: list[Impl] = [
        Ours(store),
        OursLeaseOnly(store),
        WatchMultiReference(redis),
        FourCommandReference(redis),
    ]
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    for impl in impls:
        row: dict[str, Any] = {"impl": impl.name, "round_trips_per_message": await round_trips(impl)}
        for concurrency in (1, 64):
            count = args.messages if concurrency > 1 else args.messages // 4
            messages = [(f"c{rng.randrange(args.channels)}", f"{impl.name}.{concurrency}.{n}") for n in range(count)]
            row[f"c{concurrency}"] = await run_load(impl.handle, messages, concurrency)
        row["lost_of_50"] = await lost_updates(impl, 50)
        rows.append(row)
        await redis.flushdb()
    await redis.aclose()
    return rows


def report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    base = next(r for r in rows if r["impl"] == WatchMultiReference.name)["c64"]["per_second"]
    print(
        f"{'implementation':22} {'RT/msg':>6} {'c1 msg/s':>9} {'c1 p50':>7} {'c1 p99':>7} "
        f"{'c64 msg/s':>9} {'c64 p50':>7} {'c64 p99':>7} {'lost/50':>7} {'vs seed':>7}"
    )
    for r in rows:
        c1, c64 = r["c1"], r["c64"]
        r["ratio_vs_seed_c64"] = c64["per_second"] / base
        print(
            f"{r['impl']:22} {r['round_trips_per_message']:6.2f} {c1['per_second']:9.0f} {c1['p50_ms']:6.2f}m "
            f"{c1['p99_ms']:6.2f}m {c64['per_second']:9.0f} {c64['p50_ms']:6.2f}m {c64['p99_ms']:6.2f}m "
            f"{r['lost_of_50']:7d} {r['ratio_vs_seed_c64']:6.2f}x"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    settings["redis_url"] = "private redis-server" if args.redis_url is None else "given by --redis-url"
    args.output.write_text(json.dumps({"args": settings, "rows": rows}, indent=2))
    print(f"written {args.output}")


if __name__ == "__main__":
    sys.exit(main())
