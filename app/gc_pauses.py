"""Shorter garbage-collector pauses under load: what startup built is frozen out of the collector's sight.

CPython's full collection walks every object the collector tracks, all requests of the process waiting. The
service builds about 100k of them at startup (modules, routes, validators, flow tables) and keeps them for its
whole life, so each full collection under load walked them all again: ~100 ms, twice a process in a 5 s
benchmark row, and the webhook's ack p99 was those pauses (bench/RESULTS.md, "Collector pauses").
`gc.freeze()` moves them to a permanent generation: the full collections that remain walk only what the traffic
made (~20 ms). Frozen objects are still freed when their last reference goes; only a cycle among them would
never be collected, which is why the garbage startup left behind is collected first.
"""

from __future__ import annotations

import functools
import gc

from app.logs import get_logger

log = get_logger(__name__)


@functools.cache
def freeze_startup() -> int:
    """Once per process (a test run starts many apps in one process: the first one's world is frozen, not each
    one's): collect, then freeze. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("gc_startup_frozen", objects=frozen)
    return frozen
