"""The gate before a new entry starts: fewer starts while the event loop runs late (a hog that blocks it for 30 ms
at a time), all of them again once the loop keeps time, no wait longer than its bound, and a freed gate lets a
burst in, not a whole read batch."""

from __future__ import annotations

import asyncio
import time

from app.metrics import Metrics
from app.workers.loop_gate import LoopGate
from tests.procs import wait_for_async


async def _hog(seconds: float, block_s: float = 0.03) -> None:
    """Keep the event loop busy the way hundreds of started entries do: long turns, one after the other."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        time.sleep(block_s)  # noqa: ASYNC251 - the point: a turn that blocks the event loop
        await asyncio.sleep(0)


async def test_while_the_loop_runs_late_fewer_entries_start_and_none_waits_past_its_bound() -> None:
    metrics = Metrics()
    gate = LoopGate(0.010, metrics.loop_lag, metrics.inbox_gate_waits, max_wait_s=0.2)
    gate.start()
    await asyncio.sleep(0.02)
    assert gate.quota == gate.burst
    hog = asyncio.create_task(_hog(0.8))
    await asyncio.sleep(0.1)  # the gate has measured the lag: ~25 ms, so about 10 starts a measure
    assert 1 <= gate.quota < gate.burst
    admitted: list[float] = []
    started = time.monotonic()

    async def entry() -> None:
        await gate.admit()
        admitted.append(time.monotonic() - started)

    tasks = [asyncio.create_task(entry()) for _ in range(200)]
    await asyncio.sleep(0.05)  # two or three measures of about 10 starts each
    assert 1 <= len(admitted) < 150  # not all at once (no gate: 200 in the first turn), but some progress
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=1)
    assert max(admitted) < 0.45 and not hog.done()  # each waited at most its bound, the loop still late
    await hog
    assert await wait_for_async(lambda: gate.open and gate.quota == gate.burst, within=2, step=0.005)  # on time again
    before = time.monotonic()
    await gate.admit()
    assert time.monotonic() - before < 0.01
    await gate.stop()
    lags = metrics.registry.get_sample_value("event_loop_lag_seconds_count")
    assert lags is not None and lags > 5
    waits = metrics.registry.get_sample_value("inbox_gate_waits_total")
    assert waits is not None and waits > 0  # the entries held while the loop was late were counted


async def test_a_freed_gate_lets_a_burst_in_not_a_whole_batch() -> None:
    gate = LoopGate(0.010, burst=8)
    gate.start()
    await asyncio.sleep(0.02)
    admitted: list[int] = []

    async def entry(n: int) -> None:
        await gate.admit()
        admitted.append(n)

    tasks = [asyncio.create_task(entry(n)) for n in range(40)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert 1 <= len(admitted) <= 16  # a burst (two, if a measure came between): the rest wait for later ones
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=2)
    assert sorted(admitted) == list(range(40))
    await gate.stop()


async def test_a_gate_of_zero_is_always_open() -> None:
    gate = LoopGate(0.0)
    gate.start()
    for _ in range(1_000):
        await gate.admit()
    assert gate.open
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "inbox-loop-gate"]  # and it measures nothing
    await gate.stop()


async def test_a_gate_started_again_admits_at_once() -> None:
    gate = LoopGate(0.010)
    gate.start()
    await gate.stop()
    for _ in range(100):  # admitted while stopped
        await gate.admit()
    gate.start()
    before = time.monotonic()
    await gate.admit()
    assert time.monotonic() - before < 0.01
    await gate.stop()


async def test_a_stopped_gate_holds_no_one() -> None:
    gate = LoopGate(0.010, max_wait_s=30)
    gate.start()
    await asyncio.sleep(0.02)
    hog = asyncio.create_task(_hog(0.3))
    await asyncio.sleep(0.1)
    waiters = [asyncio.create_task(gate.admit()) for _ in range(100)]  # beyond the quota: most wait
    await asyncio.sleep(0.01)
    await gate.stop()
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=1)
    await hog


async def test_an_idle_gate_measures_once_a_rest_until_the_next_start() -> None:
    gate = LoopGate(0.010, idle_s=0.05, resting_s=0.4)
    gate.start()
    await asyncio.sleep(0.3)  # nothing started: after 50 ms the measure rests
    resting = gate.measures
    assert 0 < resting <= 20
    await asyncio.sleep(0.2)
    assert gate.measures - resting <= 1  # not every 5 ms (40 in that time)
    # still measured while at rest: the lag metric does not go quiet while nothing starts
    assert await wait_for_async(lambda: gate.measures >= resting + 2, within=1.5)
    resting = gate.measures
    before = time.monotonic()
    await gate.admit()  # passes at once, and wakes the measure
    assert time.monotonic() - before < 0.01
    assert await wait_for_async(lambda: gate.measures > resting + 5, within=1)
    await gate.stop()
