"""The ASGI app: `app.main:app`, built by `create_app()`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from starlette.exceptions import HTTPException

from app.api import admin, dev, health, notify, openapi, operations, simulator, webhook
from app.api.front_door import ServiceApp
from app.api.methods import http_error
from app.api.security import SecurityHeaders
from app.config import Settings, get_settings
from app.credex.wiring import SANDBOX_PATH, TransportWrap, build_credex, connect_notify
from app.flows.engine import Engine, FlowRunner
from app.flows.registry import REGISTRY
from app.flows.runner import TableRunner
from app.gc_pauses import freeze_startup
from app.inbox.inbox import Inbox
from app.logs import configure_logging, get_logger, register_secret
from app.metrics import Metrics
from app.sender.dead import DeadLetters
from app.sender.deliver import ReplyDelivery
from app.sender.devsink import DevSink
from app.sender.replies import encode_replies
from app.state.cluster import close as close_redis
from app.state.errors import StateError
from app.state.factory import build_redis, build_store
from app.state.side_records import PersonNotes, SideRecords
from app.whatsapp.outbound import CloudApiClient, Sender
from app.workers.consumer import ConsumerLimits
from app.workers.handler import EntryHandler
from app.workers.pool import Workers

log = get_logger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    redis: Redis | None = None,
    runner: FlowRunner | None = None,
    sender: Sender | None = None,
    wrap_credex_transport: TransportWrap | None = None,
) -> FastAPI:
    """Build the service. Tests pass their own redis client, flow runner or sender; production passes none."""
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
    metrics = Metrics()
    credex, sandbox = build_credex(settings, wrap_credex_transport)
    credex.observe = metrics.observe_credex

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis if redis is not None else build_redis(settings)
        store = build_store(settings, client)
        store.encode_replies = encode_replies
        store.atomic.on_event = metrics.state_event
        records = SideRecords(store.redis_atomic)
        cloud: CloudApiClient | None = None
        out: Sender
        if sender is not None:
            out = sender
        elif settings.whatsapp_access_token is not None:
            out = cloud = CloudApiClient.from_settings(settings, retry_budget=settings.whatsapp_retry_budget_seconds)
        else:
            log.warning("replies_to_outbox", detail="WHATSAPP_ACCESS_TOKEN unset: replies go to the dev outbox")
            out = DevSink(records)
        dead = DeadLetters(store.redis_atomic)
        delivery = ReplyDelivery(store.redis_atomic, out, dead, metrics)
        notes = app.state.notes = PersonNotes(store.redis_atomic)
        table = TableRunner(
            REGISTRY,
            credex,
            metrics,
            notes=notes,
            phone_region=settings.default_phone_region,
            typed_phone=settings.is_development,
        )
        engine = Engine(store, runner or table, metrics)
        inbox = Inbox(client, settings.inbox_partitions, settings.inbox_max_entries, store.redis_atomic.batcher)
        workers = Workers(
            client,
            EntryHandler(engine, records, delivery, metrics, mark_read=settings.whatsapp_mark_read),
            metrics,
            inbox.scripts,
            partitions=settings.inbox_partitions,
            owner_ttl_ms=settings.inbox_owner_ttl_ms,
            limits=ConsumerLimits(
                block_ms=settings.inbox_block_ms,
                in_flight=settings.inbox_in_flight,
                max_attempts=settings.inbox_max_attempts,
                handle_timeout_s=settings.state_lease_ms / 1000 + settings.whatsapp_retry_budget_seconds + 5,
            ),
            drain_s=settings.inbox_drain_seconds,
            batcher=store.redis_atomic.batcher,
            lag_gate_s=settings.inbox_lag_gate_ms / 1000,
        )
        app.state.redis = client
        app.state.store = store
        app.state.records = records
        app.state.engine = engine
        app.state.inbox = inbox
        app.state.dead_letters = dead
        app.state.workers = workers
        try:
            await store.redis_atomic.load_scripts()
            await inbox.scripts.load(client)
        except Exception as exc:  # start anyway: /ready says 503 until the store answers
            log.error("state_store_unreachable_at_start", error=type(exc).__name__)
        if settings.gc_freeze_at_start:
            freeze_startup()  # before the workers start: nothing of a request in flight is frozen
        await workers.start()
        log.info("started", env=settings.app_env, state="redis" if settings.redis_url else "in-memory")
        try:
            yield
        finally:
            if (notifier := getattr(app.state, "sandbox_notifier", None)) is not None:
                await notifier.drain()  # the sandbox's notices in flight reach the inbox before the workers stop
            await workers.stop()
            await credex.aclose()
            if cloud is not None:
                await cloud.aclose()
            if redis is None:
                await close_redis(client)  # our pool (or cluster nodes): its sockets close with it

    app = ServiceApp(
        title="VimbisoPay WhatsApp chat server",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    openapi.install(app, settings)
    app.router.redirect_slashes = False  # a redirect would echo the Host header back (Location: http://<host>/…)
    app.add_middleware(SecurityHeaders)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.credex = credex
    app.state.sandbox = sandbox
    app.include_router(health.router)
    app.include_router(webhook.router)
    app.include_router(notify.router)
    app.include_router(admin.router)
    app.include_router(operations.router)
    app.add_exception_handler(StateError, _state_unavailable)
    app.add_exception_handler(HTTPException, http_error)
    if settings.is_development:
        app.include_router(dev.router)
        app.include_router(simulator.router)
    if sandbox is not None:
        app.mount(SANDBOX_PATH, sandbox)
        app.state.sandbox_notifier = connect_notify(sandbox, app, settings)
    return app


async def _state_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Any route that meets a store outage answers 503, never a stack trace."""
    log.warning("state_unavailable", path=request.url.path, error=type(exc).__name__)
    return JSONResponse({"detail": "state store unavailable, retry later"}, status_code=503)


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` is built on first access, so importing this module never reads the environment."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
