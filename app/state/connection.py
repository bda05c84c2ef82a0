"""The Redis connection classes the service uses: redis-py's, with a write to a dead socket reported as the lost
connection it is.

Under uvloop (which the service runs on), writing to a transport whose socket died in a restart or failover
raises RuntimeError ("the handler is closed"), not the OSError redis-py expects. redis-py drops the connection
either way, but only a ConnectionError is retried on a fresh connection (the pool's Retry, the cluster client's
slot-map refresh) and is caught as "store unreachable" by the callers. Seen in the cluster failover test: it
escaped the outbox ack of a reply already sent, the entry was retried and the reply went out twice; elsewhere it
stopped the shared inbox read for good.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError


class _DeadTransportIsLost(Connection):
    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        try:
            await super().send_packed_command(command, check_health)
        except RuntimeError as exc:  # already disconnected by redis-py; nothing was written
            raise RedisConnectionError(f"write to a closed transport: {exc}") from exc


class LostAwareConnection(_DeadTransportIsLost):
    """A plain TCP connection."""


class LostAwareSSLConnection(_DeadTransportIsLost, SSLConnection):
    """A TLS connection (rediss://)."""


def connection_class(ssl: bool) -> type[Connection]:
    return LostAwareSSLConnection if ssl else LostAwareConnection
