"""Shorter garbage-collector pauses under load: what startup built is frozen out of the collector's sight.

CPython's full collection walks every object the collector tracks, all requests of the process waiting. The
service builds about 100k of them at startup (modules, routes, validators, flow tables) and keeps them for its
whole life, so each full collection under load walked them all again: ~100 ms, twice a process in a 5 s
benchmark row, and the webhook's ack p99 was those pauses (bench/RESULTS.md, "Collector pauses").
`gc.freeze()` moves them to a permanent generation: the full collections that remain walk only what the traffic
made (18-33 ms at a 300 ms Cloud API, ~3 ms at 0 ms). They may come more often, since their trigger scales with
the now small old generation, but cost less in all (a process's collections over a row: 389 -> ~250 ms).
Frozen objects are still freed when their last reference goes, but a garbage cycle that runs through a frozen
object is never collected: so the garbage startup left behind is collected first, and nothing of a request is
frozen (startup is done, the workers not yet started).
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
