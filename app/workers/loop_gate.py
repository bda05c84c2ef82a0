"""The gate a consumer passes before it starts an entry: the webhook keeps the event loop when the CPU is short.

A POST is answered once its updates are in the inbox, in a handful of event-loop turns; the workers' entries
share that loop. Under a load the process cannot keep up with, hundreds of entries started at once make every
turn long, and Meta's POSTs wait in line behind them (bench/RESULTS.md: ack p50 70-89 ms in a saturating
closed loop). Nothing is gained by starting entries faster than the CPU can run them: the backlog is better
kept in the inbox, durable and ordered, than in the loop's ready queue.

So the gate measures how late the loop wakes a short sleep (its lag) and admits at most `burst` new entries per
measure while that lag is under INBOX_LAG_GATE_MS, fewer in proportion when it is over (a gate shut outright
until the loop caught up let the CPU idle in turns: 10-17 % fewer messages a second in a closed loop), so that a
freed gate does not let a whole read batch in at once either. Entries already started are never held. Every
wait is bounded (`max_wait_s`): the workers always make progress, however busy the loop is with something else.
A process with nothing to start does not keep measuring every 5 ms: after `idle_s` without a start it measures
once every `resting_s` until the next start wakes it (which passes at once: an idle loop is on time), so that
event_loop_lag_seconds never goes quiet, also while every slot is held by slow entries and nothing starts.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import Counter, Histogram

INTERVAL_S = 0.005
MAX_WAIT_S = 0.25
BURST = 32
IDLE_S = 1.0
RESTING_S = 1.0


class LoopGate:
    def __init__(
        self,
        threshold_s: float,
        lag_seconds: Histogram | None = None,
        waits: Counter | None = None,
        *,
        interval_s: float = INTERVAL_S,
        max_wait_s: float = MAX_WAIT_S,
        burst: int = BURST,
        idle_s: float = IDLE_S,
        resting_s: float = RESTING_S,
    ) -> None:
        """`threshold_s` 0: the gate is open, always (and measures nothing)."""
        self.threshold_s = threshold_s
        self.interval_s = interval_s
        self.max_wait_s = max_wait_s
        self.burst = burst
        self.idle_measures = max(1, round(idle_s / interval_s))
        self.resting_s = resting_s
        self.lag_s = 0.0
        self.measures = 0
        self._lag_seconds = lag_seconds
        self._waits = waits
        self._admitted = 0
        self._quota = burst
        self._measured: asyncio.Event = asyncio.Event()
        self._active = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def quota(self) -> int:
        """Starts allowed per measure: `burst`, or fewer while the loop runs late."""
        return self._quota

    @property
    def open(self) -> bool:
        return self._task is None or self._task.done() or self._admitted < self._quota

    def start(self) -> None:
        if self.threshold_s > 0 and self._task is None:
            self._admitted, self._quota, self._measured = 0, self.burst, asyncio.Event()
            self._active = asyncio.Event()  # like `_measured`: a fresh one for this run (and its event loop)
            self._task = asyncio.get_running_loop().create_task(self._measure(), name="inbox-loop-gate")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)  # a cancellation of the caller still propagates
            self._task = None
        self._measured.set()  # nobody waits for a measure that will not come

    async def admit(self) -> None:
        """Return when a new entry may start: at once while this measure's quota lasts, else after a later
        measure with room, or after `max_wait_s` at most."""
        self._active.set()  # wakes an idle measure
        if self.open:
            self._admitted += 1
            return
        if self._waits is not None:
            self._waits.inc()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while not self.open:
            left = deadline - loop.time()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._measured.wait()
        self._admitted += 1

    async def _measure(self) -> None:
        loop = asyncio.get_running_loop()
        idle = 0
        while True:
            if idle >= self.idle_measures:
                self._active.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.resting_s):
                        await self._active.wait()
                if self._active.is_set():
                    idle = 0
            started = loop.time()
            await asyncio.sleep(self.interval_s)
            self.lag_s = lag = max(0.0, loop.time() - started - self.interval_s)
            self.measures += 1
            if self._lag_seconds is not None:
                self._lag_seconds.observe(lag)
            idle = idle + 1 if self._admitted == 0 else 0
            self._admitted = 0
            # late: fewer starts until the next measure, in proportion (none at all would stall the CPU in turns)
            self._quota = self.burst if lag <= self.threshold_s else max(1, int(self.burst * self.threshold_s / lag))
            self._measured.set()  # every waiter looks again; the first `quota` of them pass
            self._measured = asyncio.Event()
