"""Auto-pipelining of script calls: the scripts (begin, commit, extend, outbox, statuses) that concurrent sessions
issue in the same event-loop tick travel to Redis as one pipeline (one write, one read) instead of one round trip
each, and a burst of a thousand updates needs a handful of connections instead of a thousand.

Each message still costs exactly its two scripts, and each script is still atomic on the server; only the
client's per-command cost (packing, pool checkout, socket write, timeout bookkeeping) is shared, which is
where redis-py spends most of a message's CPU under load. A lone call goes out directly, as before.
WATCH-based designs cannot do this: WATCH ties a transaction to one connection.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from redis.exceptions import NoScriptError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

_Call = tuple["AsyncScript", list[Any], list[Any], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, redis: Redis, max_batch: int = 256) -> None:
        self.redis = redis
        self.max_batch = max_batch
        self._pending: list[_Call] = []
        self._scheduled = False
        self._inflight: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.calls = 0

    async def call(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((script, keys, args, future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)  # after every task already runnable in this tick has queued its call
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _send(self, batch: list[_Call]) -> None:
        self.batches += 1
        self.calls += len(batch)
        if len(batch) == 1:
            script, keys, args, future = batch[0]
            await _settle(future, script(keys=keys, args=args))
            return
        pipe = self.redis.pipeline(transaction=False)  # on a cluster: one pipeline per node, sent at once
        for script, keys, args, _ in batch:
            # The raw command: redis-py's cluster pipeline refuses its evalsha() method (not the command); a
            # NOSCRIPT answer is handled below, one call at a time, which loads the script on every primary.
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (script, keys, args, future), result in zip(batch, results, strict=True):
            if isinstance(result, NoScriptError):  # server restarted or flushed: load and run it alone
                await _settle(future, script(keys=keys, args=args))
            elif future.done():
                continue
            elif isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


async def _settle(future: asyncio.Future[Any], coro: Any) -> None:
    try:
        result = await coro
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
    else:
        if not future.done():
            future.set_result(result)
