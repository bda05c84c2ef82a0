"""Building the Redis client and the state store from settings."""

from __future__ import annotations

import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from app.config import Settings
from app.state.atomic import AtomicStateManager
from app.state.redis_atomic import RedisAtomic
from app.state.store import StateStore
from app.state.validator import StateValidator

log = structlog.get_logger(__name__)


def build_redis(settings: Settings) -> Redis:
    """A real Redis when REDIS_URL is set; otherwise an in-process fakeredis that runs the same Lua."""
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
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
        socket_timeout=settings.redis_socket_timeout,
        # A connection that died in a restart or failover is reconnected and the command sent once more:
        # every script is written so that a repeat is safe (same lease token, same version, done marker).
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.05), 1),
        health_check_interval=settings.redis_health_check_seconds,
    )
    return Redis(connection_pool=pool)


def build_store(settings: Settings, redis: Redis) -> StateStore:
    redis_atomic = RedisAtomic(
        redis,
        state_ttl_ms=settings.state_ttl_seconds * 1000,
        lease_ms=settings.state_lease_ms,
        processed_ids=settings.state_processed_ids,
        processed_ttl_ms=settings.state_processed_ttl_seconds * 1000,
        replies_ttl_ms=settings.reply_outbox_ttl_seconds * 1000,
    )
    return StateStore(
        AtomicStateManager(redis_atomic, busy_wait_s=settings.state_busy_wait_seconds, validator=StateValidator()),
        renew_margin_ms=settings.state_lease_renew_margin_ms,
    )
