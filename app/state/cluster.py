"""What differs on Redis Cluster: keyless commands that must reach every primary, and refusing a plain client
pointed at a cluster node (it would fail with MOVED on most keys while PING still answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from app.state.errors import StateUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis


class WrongRedisMode(StateUnavailable):
    """REDIS_URL names a cluster node but REDIS_CLUSTER is not set."""


def is_cluster(redis: Redis) -> bool:
    return isinstance(redis, RedisCluster)


def every_primary(redis: Redis) -> dict[str, Any]:
    """Keyword arguments sending a keyless command to every primary (none needed on a single server)."""
    return {"target_nodes": RedisCluster.PRIMARIES} if is_cluster(redis) else {}


async def check_mode(redis: Redis) -> None:
    """Raise WrongRedisMode when a single-server client talks to a cluster node."""
    if is_cluster(redis):
        return
    try:
        info = await redis.info("cluster")
    except ResponseError:  # the embedded store has no INFO: it is no cluster
        return
    if int(info.get("cluster_enabled") or 0):
        raise WrongRedisMode("REDIS_URL names a Redis Cluster node: set REDIS_CLUSTER=true")


async def close(redis: Redis) -> None:
    """Close the client and its sockets (a cluster client closes every node's; a plain one its pool)."""
    if is_cluster(redis):
        await redis.aclose()
    else:
        await redis.aclose(close_connection_pool=True)
