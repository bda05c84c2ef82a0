"""What startup built is frozen out of the collector's full collections (app/gc_pauses.py), once per process.

In a process of its own each: the test process itself starts many apps, and the first of them froze its world."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, json, sys
    from app.config import Settings
    from app.main import create_app

    async def main(freeze: bool) -> None:
        counts = [gc.get_freeze_count()]
        for _ in range(2):  # two apps, one after the other, in one process
            app = create_app(Settings(app_env="development", gc_freeze_at_start=freeze))
            async with app.router.lifespan_context(app):
                counts.append(gc.get_freeze_count())
        print(json.dumps(counts))

    asyncio.run(main(sys.argv[1] == "on"))
    """
)


def freeze_counts(setting: str) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, setting], capture_output=True, text=True, timeout=120, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_startup_freezes_what_it_built_once_per_process() -> None:
    before, first, second = freeze_counts("on")
    assert before == 0
    assert first > 10_000  # the modules, routes, validators and flow tables (about 100k)
    # the second app's startup froze nothing more (a frozen object freed since leaves the count: it only falls)
    assert second <= first


def test_with_the_setting_off_nothing_is_frozen() -> None:
    assert freeze_counts("off") == [0, 0, 0]
