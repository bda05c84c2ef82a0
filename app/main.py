"""The ASGI app: `app.main:app`, built by `create_app()`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from app.api import health
from app.config import Settings, get_settings
from app.logs import configure_logging, register_secret
from app.state.factory import build_redis, build_store

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.is_development, settings.log_level)
    for secret in (
        settings.whatsapp_app_secret,
        settings.whatsapp_access_token,
        settings.whatsapp_verify_token,
        settings.credex_client_api_key,
        settings.admin_token,
    ):
        register_secret(secret.get_secret_value() if secret else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = build_redis(settings)
        store = build_store(settings, redis)
        app.state.redis = redis
        app.state.store = store
        try:
            await store.redis_atomic.load_scripts()
        except Exception as exc:  # start anyway: /ready says 503 until the store answers
            log.error("state_store_unreachable_at_start", error=type(exc).__name__)
        log.info("started", env=settings.app_env, state="redis" if settings.redis_url else "in-memory")
        try:
            yield
        finally:
            await redis.aclose()

    app = FastAPI(title="VimbisoPay WhatsApp chat server", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(health.router)
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` is built on first access, so importing this module never reads the environment."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
