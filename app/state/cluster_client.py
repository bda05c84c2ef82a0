"""redis-py's asyncio cluster client, made to wait for a free connection as the single-server pool does.

redis-py's cluster client keeps at most `max_connections` per node and raises MaxConnectionsError past it, at
once; its pipeline treats that error (a ConnectionError) as a node failure and closes every connection of the
client, the ones other tasks are using at that moment included, which then fail with AttributeError. A burst of
concurrent webhook POSTs did exactly that (120 of 300 concurrent appends failed at 64 connections per node).

The same pipeline, and a command meeting CLUSTERDOWN, reset the client with `aclose()`, which also cuts the
connections in use by other tasks: here that reset rereads the slot map and leaves connections in use alone.

Every command and every pipeline of this client first takes one of `max_connections` permits, waiting up to
`wait_s` (REDIS_SOCKET_TIMEOUT, as the single-server BlockingConnectionPool does). A command or pipeline uses at
most one connection per node at a time, so no node's limit is ever reached. The redirections redis-py runs inside
a held permit (MOVED, ASK) do not take a second one (a context variable says the task holds one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import MaxConnectionsError, RedisClusterException

_holding: ContextVar[bool] = ContextVar("cluster_permit_held", default=False)


class QueuedCluster(RedisCluster):
    def __init__(self, *args: Any, wait_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._permits = asyncio.Semaphore(int(kwargs.get("max_connections", 100)))
        self._wait_s = wait_s

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[None]:
        if _holding.get():
            yield
            return
        try:
            await asyncio.wait_for(self._permits.acquire(), self._wait_s)
        except TimeoutError:
            raise MaxConnectionsError(f"no free cluster connection within {self._wait_s} s") from None
        token = _holding.set(True)
        try:
            yield
        finally:
            _holding.reset(token)
            self._permits.release()

    async def aclose(self) -> None:
        """Closing from outside closes everything. redis-py also calls this in the middle of a command, to reread
        the slot map after CLUSTERDOWN or a failed pipeline, and so cut the connections of every other task in
        flight (they fail with AttributeError, not even a RedisError). Called from inside a command (a permit is
        held), it only asks for the slot map to be reread and retires connections once they are free."""
        if not _holding.get():
            await super().aclose()
            return
        self._initialize = True
        for node in list(self.nodes_manager.nodes_cache.values()):
            node.update_active_connections_for_reconnect()
            await node.disconnect_free_connections()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.permit():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        return QueuedPipeline(self, transaction)  # type: ignore[abstract]  # as redis-py builds its own


class QueuedPipeline(ClusterPipeline):
    cluster_client: QueuedCluster

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        async with self.cluster_client.permit():
            return await super().execute(raise_on_error, allow_redirections)
