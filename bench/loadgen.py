"""Load generator of the webhook benchmarks, run in its own process by bench/webhook_bench.py and
bench/inbox_bench.py.

    .venv/bin/python -m bench.loadgen --url http://127.0.0.1:8000/webhook [--url ...] --stub http://127.0.0.1:9100 \\
        --secret S [--messages 10000] [--warmup 500] [--senders 50] [--people 1000] [--watch app=PID ...] \\
        [--redis-url redis://127.0.0.1:PORT/0 --partitions 8]

Builds every body up front: a realistic text-message webhook envelope (metadata, contacts[] with wa_id, user_id
and profile name, one message with a unique wamid and a unique text carrying the marker `k<n>`), signed with
X-Hub-Signature-256 over the exact bytes sent. Then `--senders` tasks POST them over keep-alive connections
(RawPoster: the request bytes built up front, written on asyncio streams).
After the POSTs it waits for the stub to have every reply, so "handled" counts replies, not just 200s.
With several `--url`s, message n goes to url[n % len(urls)] (one service, several processes).
With `--redis-url` (the inbox bench's private Redis), it waits before and after the measured phase until every
inbox partition is drained (no lag, nothing pending) and reports the Redis commands run in between, from INFO
commandstats, minus its own. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from redis.asyncio import Redis

from app.whatsapp.signature import sign

PHONE_NUMBER_ID = "1122334455667"
WORDS = ("balance", "send", "offer", "accept", "menu", "hello", "credex", "ledger", "usd", "zwg", "pay", "thanks")


def person(p: int) -> dict[str, Any]:
    return {
        "wa_id": f"26377{p:07d}",
        "user_id": f"ZW.{13491208655302741918 + p * 7919}",
        "parent_user_id": f"ZW.ENT.{11815799212886844830 + p}",
        "profile": {"name": f"Bench Person {p}"},
    }


def body(n: int, p: int, run: str, rng: random.Random) -> bytes:
    contact = person(p)
    text = f"{' '.join(rng.choices(WORDS, k=rng.randrange(1, 6)))} k{n}"
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "263771000000", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [contact],
                            "messages": [
                                {
                                    "from": contact["wa_id"],
                                    "id": f"wamid.HBgM{run}{n:08d}AA==",
                                    "timestamp": str(1764028800 + n // 50),
                                    "text": {"body": text},
                                    "type": "text",
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    return sorted(values)[max(0, int(len(values) * q) - 1)] * 1000 if values else float("nan")


async def stub_count(http: aiohttp.ClientSession, stub: str) -> dict[str, int]:
    async with http.get(f"{stub}/count") as r:
        data: dict[str, int] = await r.json()
        return data


async def wait_for_replies(http: aiohttp.ClientSession, stub: str, expected: int, within: float, stall: float) -> int:
    """Until the stub has `expected` replies, for at most `within` s, or `stall` s without a new one."""
    deadline = time.monotonic() + within
    last, progress = -1, time.monotonic()
    while True:
        count = (await stub_count(http, stub))["count"]
        now = time.monotonic()
        if count != last:
            last, progress = count, now
        if count >= expected or now > deadline or now - progress > stall:
            return count
        await asyncio.sleep(0.02)


Bodies = list[tuple[int, int, bytes]]
"""(message number, which url, the exact request bytes)"""
MAX_IN_FLIGHT = 2_000
"""Paced mode: at most this many POSTs open at once (a bound, not a pace: reaching it is reported)."""


class RawPoster:
    """POSTs pre-built HTTP/1.1 requests over keep-alive loopback connections (asyncio streams, one request per
    connection at a time): about a third of aiohttp's CPU per POST, which the service under test would otherwise
    share on this 2-core host (Meta's senders do not run on our machine). Only what the bench needs: answers with
    a content-length, a fresh connection after `connection: close` or any error."""

    def __init__(self, urls: list[str], timeout: float) -> None:
        self.targets = [urlsplit(u) for u in urls]
        self.timeout = timeout
        self.idle: list[list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = [[] for _ in urls]
        self.opened = 0
        self.stale_retries = 0

    def request(self, n: int, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """(which url, the exact request bytes) for message n, built once up front."""
        target = n % len(self.targets)
        url = self.targets[target]
        lines = [f"POST {url.path or '/'} HTTP/1.1", f"host: {url.netloc}", f"content-length: {len(data)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return target, ("\r\n".join(lines) + "\r\n\r\n").encode() + data

    async def post(self, target: int, request: bytes) -> int:
        """The answer's HTTP status; raises OSError, TimeoutError or asyncio.IncompleteReadError.

        A kept-alive connection the server closed just as the request went out (its idle timeout, while the
        bench waited between phases) fails before any answer: that request is sent once more on a fresh
        connection, as every HTTP client does (and Meta would), and counted in `stale_retries`."""
        idle = self.idle[target]
        while idle and (idle[-1][0].at_eof() or idle[-1][1].is_closing()):  # the server closed it while idle
            idle.pop()[1].close()
        if idle:
            reader, writer = idle.pop()
            try:
                return await self._exchange(target, reader, writer, request)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as exc:
                if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                    raise  # part of an answer came: the server did take the request
                self.stale_retries += 1
        url = self.targets[target]
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        self.opened += 1
        return await self._exchange(target, reader, writer, request)

    async def _exchange(
        self, target: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> int:
        """One request and its answer on one connection, kept for the next request unless the server closes it."""
        try:
            async with asyncio.timeout(self.timeout):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                lower = head.lower()
                at = lower.find(b"\r\ncontent-length:")
                if at < 0:
                    raise OSError("answer without a content-length")
                length = int(lower[at + 17 : lower.index(b"\r\n", at + 2)])
                if length:
                    try:
                        await reader.readexactly(length)
                    except (asyncio.IncompleteReadError, ConnectionResetError):  # the head came: not a stale conn
                        raise OSError("answer cut short") from None
        except BaseException:
            writer.close()
            raise
        if b"\r\nconnection: close" in lower:
            writer.close()
        else:
            self.idle[target].append((reader, writer))
        return status

    def close(self) -> None:
        for idle in self.idle:
            for _, writer in idle:
                writer.close()
            idle.clear()


async def blast(
    poster: RawPoster, bodies: Bodies, senders: int, rate: float | None = None
) -> tuple[dict[int, float], dict[int, float], list[float], Counter[str]]:
    """POST every body, message n to urls[n % len(urls)]: closed loop with `senders` concurrent tasks, or, with
    `rate`, open loop (message i due at i / rate s, latency counted from when it was due, so a slow server cannot
    hide its queueing by slowing the sender). Returns send start and end times, latencies and error counts."""
    started: dict[int, float] = {}
    ended: dict[int, float] = {}
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    async def post(n: int, target: int, request: bytes, t: float) -> None:
        started[n] = t
        try:
            status = await poster.post(target, request)
            if status != 200:
                errors[f"http {status}"] += 1
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            errors[type(exc).__name__] += 1
        ended[n] = time.monotonic()
        latencies.append(ended[n] - t)

    if rate is None:
        queue = iter(bodies)

        async def sender() -> None:
            for n, target, request in queue:
                await post(n, target, request, time.monotonic())

        await asyncio.gather(*(sender() for _ in range(senders)))
        return started, ended, latencies, errors
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []
    t0 = time.monotonic()
    for i, (n, target, request) in enumerate(bodies):
        due = t0 + i / rate
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        if slots.locked():
            errors["in-flight bound reached"] += 1
        await slots.acquire()
        task = asyncio.create_task(post(n, target, request, due))
        task.add_done_callback(lambda _: slots.release())
        tasks.append(task)
    await asyncio.gather(*tasks)
    return started, ended, latencies, errors


class RedisWatch:
    """INFO commandstats of the bench's private Redis around the measured phase, minus this process's calls."""

    def __init__(self, url: str, partitions: int) -> None:
        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self.streams = [f"inbox:{{p{n}}}" for n in range(partitions)]
        self.own: Counter[str] = Counter()

    async def stats(self) -> dict[str, int]:
        info: dict[str, Any] = await self.redis.info("commandstats")
        self.own["info"] += 1
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items() if isinstance(v, dict)}

    async def drained(self, within: float) -> bool:
        """Until no partition has lag or pending entries, for at most `within` s."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pipe = self.redis.pipeline(transaction=False)
            for stream in self.streams:
                pipe.xinfo_groups(stream)
            results = await pipe.execute(raise_on_error=False)
            self.own["xinfo|groups"] += len(self.streams)
            busy = False
            for groups in results:
                if isinstance(groups, Exception):
                    continue  # no stream yet
                for g in groups:
                    busy = busy or bool(g.get("pending")) or bool(g.get("lag"))
            if not busy:
                return True
            await asyncio.sleep(0.05)
        return False

    async def monitor(self, counts: Counter[str]) -> None:
        """MONITOR (costly for Redis: `--monitor` only): counts each command by origin, `client:` a command sent
        by a client (one per round trip or pipelined), `lua:` one a script ran inside Redis."""
        async with self.redis.monitor() as m:
            while True:
                info = await m.next_command()
                name = str(info["command"]).split(" ", 1)[0].lower()
                counts[f"{'lua' if info['client_type'] == 'lua' else 'client'}:{name}"] += 1

    async def delta(self, before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
        calls = {name: after.get(name, 0) - before.get(name, 0) - self.own[name] for name in after}
        return {name: n for name, n in sorted(calls.items(), key=lambda kv: -kv[1]) if n > 0}


def order_violations(
    people: dict[int, int], started: dict[int, float], ended: dict[int, float], first: dict[int, float]
) -> int:
    """Pairs of one person's messages where the later one's POST started after the earlier one was acknowledged,
    yet its reply reached the stub first (so the service answered them out of order)."""
    by_person: dict[int, list[int]] = {}
    for n in sorted(first, key=lambda m: started[m]):
        by_person.setdefault(people[n], []).append(n)
    bad = 0
    for ns in by_person.values():
        for a, b in itertools.pairwise(ns):
            if ended.get(a, float("inf")) < started[b] and first[b] < first[a]:
                bad += 1
    return bad


async def main(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    run = os.urandom(3).hex().upper()  # fresh wamids on every run, so no run sees another's as duplicates
    secret = args.secret.encode()
    total = args.warmup + args.messages
    poster = RawPoster(args.url, args.request_timeout)
    prepared: Bodies = []
    people: dict[int, int] = {}
    for n in range(total):
        people[n] = rng.randrange(args.people)
        data = body(n, people[n], run, rng)
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(secret, data)}
        prepared.append((n, *poster.request(n, data, headers)))
    warmup, measured = prepared[: args.warmup], prepared[args.warmup :]
    watch = {name: int(pid) for name, pid in (w.split("=", 1) for w in args.watch)}
    redis = RedisWatch(args.redis_url, args.partitions) if args.redis_url else None
    drained_before = drained_after = None

    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as http:  # the stub's counters; the POSTs go through poster
        base = (await stub_count(http, args.stub))["count"]
        await blast(poster, warmup, args.senders, args.rate)
        await wait_for_replies(http, args.stub, base + len(warmup), args.drain_timeout, args.stall)
        monitored: Counter[str] = Counter()
        if redis is not None:
            drained_before = await redis.drained(args.stall)
            stats_before = await redis.stats()
            own_xinfo = redis.own["xinfo|groups"]
            monitor = asyncio.create_task(redis.monitor(monitored)) if args.monitor else None
        counts = await stub_count(http, args.stub)
        base, connections, reads = counts["count"], counts["connections"], counts.get("reads", 0)

        cpu_before = {name: cpu_seconds(pid) for name, pid in watch.items()}
        own_before = time.process_time()
        t0 = time.monotonic()
        started, ended, latencies, errors = await blast(poster, measured, args.senders, args.rate)
        posts_done = time.monotonic()
        final = await wait_for_replies(http, args.stub, base + len(measured), args.drain_timeout, args.stall)
        if redis is not None:
            drained_after = await redis.drained(args.stall)
            commands = await redis.delta(stats_before, await redis.stats())
            if monitor is not None:
                await asyncio.sleep(0.2)  # let the monitor read what was already sent
                monitor.cancel()
                await asyncio.gather(monitor, return_exceptions=True)
                monitored["client:xinfo"] -= redis.own["xinfo|groups"] - own_xinfo
                monitored["client:info"] -= 1
            await redis.redis.aclose()
        async with http.get(f"{args.stub}/replies") as r:
            answer = await r.json()
            replies = answer["replies"]
        counts = await stub_count(http, args.stub)
    poster.close()

    first: dict[int, float] = {}
    per_marker: Counter[int] = Counter()
    for marker, t in replies:
        if marker is not None and marker in started:
            per_marker[marker] += 1
            first.setdefault(marker, t)
    done = max([posts_done, *first.values()])
    elapsed = done - t0
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in watch.items()}
    cpu["loadgen"] = time.process_time() - own_before
    e2e = [first[n] - started[n] for n in first]
    extra: dict[str, Any] = {}
    if redis is not None:
        total_calls = sum(commands.values())
        extra = {
            "redis_calls": total_calls,
            "redis_calls_per_handled": total_calls / max(1, len(first)),
            "redis_top_commands": {name: n / max(1, len(first)) for name, n in list(commands.items())[:12]},
            "inbox_drained_before": drained_before,
            "inbox_drained_after": drained_after,
        }
        if args.monitor:
            handled = max(1, len(first))
            by_origin = Counter(k.split(":", 1)[0] for k in monitored.elements())
            extra["monitor_per_handled"] = {origin: n / handled for origin, n in by_origin.items()}
            extra["monitor_top_commands"] = {k: n / handled for k, n in monitored.most_common(20) if n > 0}
    return {
        "messages": len(measured),
        "warmup": len(warmup),
        "senders": args.senders,
        "rate": args.rate,
        "people": args.people,
        "elapsed_s": elapsed,
        "handled_per_second": len(first) / elapsed,
        "acked_per_second": len(measured) / (posts_done - t0),
        "post_p50_ms": pct(latencies, 0.50),
        "post_p99_ms": pct(latencies, 0.99),
        "post_mean_ms": statistics.fmean(latencies) * 1000,
        "post_max_ms": max(latencies) * 1000,
        "reply_p50_ms": pct(e2e, 0.50),
        "reply_p99_ms": pct(e2e, 0.99),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "stale_connection_retries": poster.stale_retries,
        "stub_replies": final - base,
        "stub_unauthorized": counts["unauthorized"],
        "stub_new_connections": counts["connections"] - connections,
        "stub_mark_read_requests": counts.get("reads", 0) - reads,
        "replied_once": sum(1 for c in per_marker.values() if c == 1),
        "replied_twice_or_more": sum(1 for c in per_marker.values() if c > 1),
        "not_replied": len(measured) - len(per_marker),
        "order_violations": order_violations(people, started, ended, first),
        "sample_reply_body": answer["last"],
        "cpu_us_per_message": {name: s / len(measured) * 1e6 for name, s in cpu.items()},
        "cpu_busy_fraction": {name: s / elapsed for name, s in cpu.items()},
        **extra,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True, help="repeat: POSTs are spread round-robin")
    parser.add_argument("--stub", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--rate", type=float, help="open loop: POSTs per second instead of --senders in a loop")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="wait at most this for the replies")
    parser.add_argument("--stall", type=float, default=10.0, help="stop waiting after this long without a reply")
    parser.add_argument("--watch", action="append", default=[], help="name=pid whose CPU time is measured")
    parser.add_argument("--redis-url", help="count Redis commands (INFO commandstats) on this private server")
    parser.add_argument("--partitions", type=int, default=8, help="inbox partitions (INBOX_PARTITIONS)")
    parser.add_argument("--monitor", action="store_true", help="with --redis-url: split commands by origin (MONITOR)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    import uvloop

    print(json.dumps(uvloop.run(main(parse()))))
