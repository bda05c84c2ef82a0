"""Building the Redis client and the state store from settings."""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from app.config import Settings, redis_node_urls
from app.logs import get_logger
from app.state.atomic import AtomicStateManager
from app.state.cluster_client import QueuedCluster
from app.state.connection import lost_aware
from app.state.redis_atomic import RedisAtomic
from app.state.store import StateStore
from app.state.validator import StateValidator

log = get_logger(__name__)


CLUSTER_RETRIES = 4
"""Tries after the first on a cluster, each after a fresh read of the slot map: with the cluster's own 0.25 s
pause after CLUSTERDOWN this covers the seconds a replica takes to be promoted once its primary is declared
failed; beyond that the caller sees StateUnavailable (503, so Meta retries later)."""


def build_redis(settings: Settings) -> Redis:
    """A real Redis when REDIS_URL is set (REDIS_CLUSTER=true: a cluster client); otherwise an in-process
    fakeredis that runs the same Lua."""
    if settings.redis_url is None:
        import fakeredis

        log.warning("state_in_memory", detail="REDIS_URL unset: state lives in this process and dies with it")
        # A blocking pool, as for a real server: a burst waits for a connection instead of failing.
        return fakeredis.FakeAsyncRedis(
            server=fakeredis.FakeServer(),
            lua_modules=set(),
            connection_pool_class=BlockingConnectionPool,
            max_connections=settings.redis_max_connections,
            timeout=settings.redis_socket_timeout,
        )
    if settings.redis_cluster:
        return build_cluster(settings)
    url_options = parse_url(settings.redis_url)
    url_options["connection_class"] = lost_aware(url_options.get("connection_class"))
    defaults: dict[str, Any] = {
        "max_connections": settings.redis_max_connections,
        "timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_timeout": settings.redis_socket_timeout,
        # A connection that died in a restart or failover is reconnected and the command sent once more:
        # every script is written so that a repeat is safe (same lease token, same version, done marker).
        "retry": Retry(ExponentialBackoff(cap=0.25, base=0.05), 1),
        "health_check_interval": settings.redis_health_check_seconds,
    }
    pool = BlockingConnectionPool(**{**defaults, **url_options})  # the URL's own options win, as with from_url
    return Redis(connection_pool=pool)


def build_cluster(settings: Settings) -> Redis:
    """redis-py's asyncio cluster client: it follows MOVED and ASK itself and rereads the slot map after a
    connection error or CLUSTERDOWN, which is how a failover (a replica promoted) is recovered from.

    Typed as `Redis`: the cluster client offers the same command methods (and pipelines without a transaction,
    grouped by node) and the code uses nothing else; the few keyless commands that must reach every primary (SCAN, PING;
    redis-py sends SCRIPT LOAD/EXISTS to every primary itself) go through app/state/cluster.py.
    """
    assert settings.redis_url is not None
    urls = redis_node_urls(settings.redis_url)
    parsed = [parse_url(url) for url in urls]
    first = dict(parsed[0])  # the URL's own options (password, timeouts in the query string) win, as for one node
    ssl = first.pop("connection_class", None) is SSLConnection
    nodes = [ClusterNode(str(p.get("host", "localhost")), int(p.get("port", 6379))) for p in parsed]
    options: dict[str, Any] = {
        # Per node; a burst beyond it waits for a free one, as on a single server.
        "max_connections": settings.redis_max_connections,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_timeout": settings.redis_socket_timeout,
        "health_check_interval": settings.redis_health_check_seconds,
        "retry": Retry(ExponentialBackoff(cap=0.25, base=0.05), CLUSTER_RETRIES),
        # A MOVED answer patches that one slot; every fifth rereads the whole map (after a failover, many move).
        "reinitialize_steps": 5,
    }
    for key in ("host", "port", "db"):
        first.pop(key, None)
    # Waits for a free connection (up to REDIS_SOCKET_TIMEOUT) instead of failing a burst: cluster_client.py.
    cluster = QueuedCluster(startup_nodes=nodes, ssl=ssl, wait_s=settings.redis_socket_timeout, **{**options, **first})
    # The service's connection class for every node (connection.py): the startup nodes RedisCluster rebuilt from
    # ours, and those the slot map or a MOVED names later (it sets SSLConnection itself when ssl=True).
    node_class = lost_aware(SSLConnection if ssl else None)
    cluster.nodes_manager.connection_kwargs["connection_class"] = node_class
    for node in cluster.nodes_manager.startup_nodes.values():
        node.connection_class = node_class  # type: ignore[assignment]
    return cast(Redis, cluster)


def build_store(settings: Settings, redis: Redis) -> StateStore:
    redis_atomic = RedisAtomic(
        redis,
        state_ttl_ms=settings.state_ttl_seconds * 1000,
        lease_ms=settings.state_lease_ms,
        processed_ids=settings.state_processed_ids,
        processed_ttl_ms=settings.state_processed_ttl_seconds * 1000,
        replies_ttl_ms=settings.reply_outbox_ttl_seconds * 1000,
        ack_retry_s=settings.redis_ack_retry_seconds,
    )
    return StateStore(
        AtomicStateManager(redis_atomic, busy_wait_s=settings.state_busy_wait_seconds, validator=StateValidator()),
        renew_margin_ms=settings.state_lease_renew_margin_ms,
    )
