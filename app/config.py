"""Settings, read once from the environment (pydantic-settings); the README keeps the table of them all."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WHATSAPP_API_VERSION = "v25.0"
"""The Graph API version we send to and read from: released 18 Feb 2026, served until 29 Jul 2028."""
MAX_SENDS_IN_FLIGHT = 512
"""Concurrent Cloud API requests per process (WHATSAPP_MAX_CONNECTIONS): at Meta's ~300 ms a send, 1,000 messages a
second with a read receipt each need about 600 requests open at once across the processes."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    app_env: Literal["development", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    web_concurrency: int = Field(1, ge=1, le=64)
    # None: served in development, not in production (the document lists the admin routes).
    docs_enabled: bool | None = None

    # State store. Unset REDIS_URL means the embedded in-process store (fakeredis with Lua).
    redis_url: str | None = None
    # REDIS_URL names any node of a Redis Cluster (or a comma list of nodes): redis-py's cluster client, db 0 only.
    redis_cluster: bool = False
    redis_connect_timeout: float = Field(1.0, gt=0, le=30)
    redis_socket_timeout: float = Field(2.0, gt=0, le=60)
    redis_max_connections: int = Field(64, ge=1, le=10_000)
    redis_health_check_seconds: int = Field(5, ge=0, le=300)
    # How long the ack of a reply already sent is tried again while Redis does not answer (restart, failover):
    # given up, the reply would be sent twice. Cover cluster-node-timeout plus the election (about 1 s).
    redis_ack_retry_seconds: float = Field(20.0, ge=0, le=300)
    state_ttl_seconds: int = Field(300, ge=10, le=86_400)
    state_lease_ms: int = Field(30_000, ge=100, le=300_000)
    state_busy_wait_seconds: float = Field(5.0, ge=0, le=60)
    state_lease_renew_margin_ms: int = Field(25_000, ge=10, le=300_000)
    state_processed_ids: int = Field(2_000, ge=1, le=100_000)
    state_processed_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)

    # Inbox (Redis Streams), workers and the reply outbox.
    inbox_partitions: int = Field(8, ge=1, le=1024)
    inbox_max_entries: int = Field(1_000_000, ge=100, le=100_000_000)
    inbox_owner_ttl_ms: int = Field(5_000, ge=500, le=120_000)
    inbox_block_ms: int = Field(1_000, ge=10, le=30_000)
    inbox_max_attempts: int = Field(20, ge=1, le=1_000)
    inbox_in_flight: int = Field(512, ge=1, le=100_000)
    inbox_lag_gate_ms: float = Field(10.0, ge=0, le=1_000)
    """New entries start only while the event loop runs this close to time (app/workers/loop_gate.py); 0: off."""
    inbox_drain_seconds: float = Field(10.0, ge=0, le=300)
    gc_freeze_at_start: bool = True
    """Freeze what startup built out of the garbage collector's full collections (app/gc_pauses.py)."""
    reply_outbox_ttl_seconds: int = Field(24 * 3600, ge=60, le=7 * 24 * 3600)
    whatsapp_mark_read: bool = True
    whatsapp_retry_budget_seconds: float = Field(30.0, ge=0, le=600)
    whatsapp_max_connections: int = Field(MAX_SENDS_IN_FLIGHT, ge=1, le=10_000)

    # WhatsApp Cloud API.
    webhook_max_bytes: int = Field(4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str = "000000000000000"
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = Field(WHATSAPP_API_VERSION, pattern=r"^v[0-9]+\.[0-9]+$")

    # credex-core.
    credex_api_url: str | None = None
    credex_client_api_key: SecretStr | None = None
    credex_timeout_seconds: float = Field(10.0, gt=0, le=120)
    """How long one credex-core answer is awaited; a write that outlasts it is reconciled, never repeated."""

    notify_per_recipient_per_minute: int = Field(5, ge=1, le=10_000)
    notify_per_minute: int = Field(600, ge=1, le=1_000_000)

    admin_token: SecretStr | None = None

    @field_validator("app_env", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        """`Development` and ` production ` mean what they say; anything else is still refused."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    # How people write phone numbers: a number typed without its country code (0771234567) is read as this
    # region's (ISO 3166 alpha-2, as libphonenumber knows it).
    default_phone_region: str = Field("ZW", pattern=r"^[A-Z]{2}$")

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    @property
    def serves_docs(self) -> bool:
        """Whether /docs, /redoc and /openapi.json are served: DOCS_ENABLED, else only in development."""
        return self.is_development if self.docs_enabled is None else self.docs_enabled

    @model_validator(mode="after")
    def _one_store_per_worker(self) -> Settings:
        """The embedded store lives in one process: two workers would each hold their own conversations."""
        if self.web_concurrency > 1 and not self.redis_url:
            raise ValueError(
                f"WEB_CONCURRENCY={self.web_concurrency} needs REDIS_URL: without it every worker keeps its own "
                "embedded store and conversations split between them (set REDIS_URL or WEB_CONCURRENCY=1)"
            )
        return self

    @model_validator(mode="after")
    def _redis_url_fits_the_mode(self) -> Settings:
        """Refuse at startup what would otherwise fail on every message (MOVED errors, a db a cluster lacks)."""
        if self.redis_url is None:
            if self.redis_cluster:
                raise ValueError("REDIS_CLUSTER=true needs REDIS_URL naming a node of the cluster")
            return self
        urls = redis_node_urls(self.redis_url)
        if any(url.startswith("redis+cluster://") for url in urls):
            raise ValueError(
                "REDIS_URL: redis+cluster:// is not supported; write redis://host:port and set REDIS_CLUSTER=true"
            )
        if not self.redis_cluster:
            if len(urls) > 1:
                raise ValueError("REDIS_URL lists several nodes: that is a Redis Cluster, set REDIS_CLUSTER=true")
            return self
        for url in urls:
            parts = urlsplit(url)
            db = parts.path.strip("/") or parse_qs(parts.query).get("db", [""])[0]
            if db not in ("", "0"):
                raise ValueError(
                    f"REDIS_URL names database {db}, but a Redis Cluster has only database 0: "
                    f"drop the /{db} (or write /0) or set REDIS_CLUSTER=false"
                )
        return self

    @model_validator(mode="after")
    def _development_defaults(self) -> Settings:
        """Development generates the secrets it needs so the signature path is always exercised."""
        if self.is_development:
            if self.whatsapp_app_secret is None:
                self.whatsapp_app_secret = SecretStr(secrets.token_hex(32))
            if self.whatsapp_verify_token is None:
                self.whatsapp_verify_token = SecretStr(secrets.token_urlsafe(16))
            return self
        missing = [
            name
            for name, value in (
                ("WHATSAPP_APP_SECRET", self.whatsapp_app_secret),
                ("WHATSAPP_VERIFY_TOKEN", self.whatsapp_verify_token),
                ("CREDEX_API_URL", self.credex_api_url),
                ("CREDEX_CLIENT_API_KEY", self.credex_client_api_key),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"{', '.join(missing)} must be set in production (APP_ENV=production)")
        return self


def redis_node_urls(redis_url: str) -> list[str]:
    """`redis://a:7000,b:7001` (or full URLs after each comma): one URL per node, the first one's scheme,
    credentials and options given to the others."""
    first, *others = [part.strip() for part in redis_url.split(",") if part.strip()]
    head = urlsplit(first)
    urls = [first]
    for other in others:
        if "://" in other:
            urls.append(other)
            continue
        netloc = head.netloc.rpartition("@")[0]
        netloc = f"{netloc}@{other}" if netloc else other
        urls.append(urlunsplit((head.scheme, netloc, head.path, head.query, "")))
    return urls


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
