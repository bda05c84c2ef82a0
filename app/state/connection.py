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

from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError

DEAD_TRANSPORT = "handler is closed"
"""uvloop's words when a transport is used after it closed (`_ensure_alive`, before anything is buffered): only
then is it certain that nothing reached Redis, so that sending again cannot run a command twice."""


class _DeadTransportIsLost(AbstractConnection):
    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        try:
            await super().send_packed_command(command, check_health)
        except RuntimeError as exc:  # already disconnected by redis-py
            if DEAD_TRANSPORT not in str(exc):
                raise
            raise RedisConnectionError(f"write to a closed transport: {exc}") from exc


class LostAwareConnection(_DeadTransportIsLost, Connection):
    """A plain TCP connection."""


class LostAwareSSLConnection(_DeadTransportIsLost, SSLConnection):
    """A TLS connection (rediss://); uvloop mostly reports a dead TLS transport as ConnectionResetError already."""


class LostAwareUnixConnection(_DeadTransportIsLost, UnixDomainSocketConnection):
    """A unix socket (unix://)."""


def lost_aware(url_class: type[AbstractConnection] | None) -> type[AbstractConnection]:
    """The service's class for the one redis-py would pick for a URL (None: plain TCP)."""
    if url_class is SSLConnection:
        return LostAwareSSLConnection
    if url_class is UnixDomainSocketConnection:
        return LostAwareUnixConnection
    if url_class is None or url_class is Connection:
        return LostAwareConnection
    return url_class
