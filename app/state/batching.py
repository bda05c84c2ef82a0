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
from typing import TYPE_CHECKING, Any, cast

from redis.exceptions import NoScriptError, RedisError

from app.state.cluster import is_cluster

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster
    from redis.commands.core import AsyncScript

_Call = tuple["AsyncScript | None", list[Any], list[Any], "asyncio.Future[Any]"]
"""(script, keys, args, future); a plain command has no script and its whole command line as args."""


class ScriptBatcher:
    def __init__(self, redis: Redis, max_batch: int = 256) -> None:
        self.redis = redis
        self.max_batch = max_batch
        self._pending: list[_Call] = []
        self._scheduled = False
        self._inflight: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.calls = 0

    @property
    def in_flight(self) -> frozenset[asyncio.Task[None]]:
        """The pipelines on their way: a stop that gives up waits a moment for them (Workers.stop)."""
        return frozenset(self._inflight)

    async def call(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        future = self._queue(script, keys, args)
        self._schedule()
        return await future

    async def command(self, *command: Any) -> Any:
        """A plain command on one key (`command[1]`), in the pipeline of this tick: the workers' XACKs travel with
        the begin/commit scripts of the same tick instead of as round trips of their own."""
        future = self._queue(None, [command[1]], list(command))
        self._schedule()
        return await future

    async def call_many(self, calls: list[tuple[AsyncScript, list[Any], list[Any]]]) -> list[Any]:
        """Several calls that must reach Redis in this order (one POST's inbox appends): queued together, so they
        travel in one pipeline and are never split across two in flight; raises the first call's error."""
        futures = [self._queue(script, keys, args) for script, keys, args in calls]
        self._schedule()
        results = await asyncio.gather(*futures, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    def _queue(self, script: AsyncScript | None, keys: list[Any], args: list[Any]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((script, keys, args, future))
        return future

    def _schedule(self) -> None:
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)  # after every task runnable in this tick queued

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._send(batch), name="state-batch")
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _send(self, batch: list[_Call]) -> None:
        self.batches += 1
        self.calls += len(batch)
        if len(batch) == 1:
            script, keys, args, future = batch[0]
            if script is None:
                await _settle(future, self.redis.execute_command(*args))  # type: ignore[no-untyped-call]
            else:
                await _settle(future, script(keys=keys, args=args))
            return
        groups = _by_node(self.redis, batch)
        if len(groups) == 1:
            await self._pipeline(batch)
        else:
            await asyncio.gather(*(self._pipeline(group) for group in groups))

    async def _pipeline(self, batch: list[_Call]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for script, keys, args, _ in batch:
            # The raw command: redis-py's cluster pipeline refuses its evalsha() method (not the command); a
            # NOSCRIPT answer is handled below, one call at a time, which loads the script on every primary.
            if script is None:
                pipe.execute_command(*args)
            else:
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
            if script is not None and isinstance(result, NoScriptError):  # server restarted or flushed: load, rerun
                await _settle(future, script(keys=keys, args=args))
            elif future.done():
                continue
            elif isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def _by_node(redis: Redis, batch: list[_Call]) -> list[list[_Call]]:
    """On a cluster, one pipeline per node (all sent at once): a node that fails or fails over fails only the calls
    of the people it holds, not the whole batch. (One cluster pipeline over every node raises for all of them.)"""
    if not is_cluster(redis):
        return [batch]
    cluster = cast("RedisCluster", redis)
    groups: dict[str, list[_Call]] = {}
    for call in batch:
        keys = call[1]
        try:
            node = cluster.get_node_from_key(keys[0]) if keys else None
        except RedisError:  # no slot map yet: the pipeline finds out
            node = None
        groups.setdefault(node.name if node is not None else "", []).append(call)
    return list(groups.values())


async def _settle(future: asyncio.Future[Any], coro: Any) -> None:
    try:
        result = await coro
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
    else:
        if not future.done():
            future.set_result(result)
