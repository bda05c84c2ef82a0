"""schemathesis over the service's own `/openapi.json`, every route, in both modes, served in-process by uvicorn.

What must hold for every generated request: no 5xx but the documented 503, the status code documented for the
route, the body matching the documented schema, the documented content type and headers, and a 405 that lists
the path's real methods. Signed and keyed routes get valid credentials (a wrong signature would only ever test the
403 path): POST /webhook is signed over the exact bytes sent, /admin gets the bearer token, /notify the client key,
unless the generated request already carries its own (those test the refusals).

Budget: FUZZ_MAX_EXAMPLES generated examples per route (default 20), FUZZ_WEBHOOK_EXAMPLES for POST /webhook
(default 6: its deep envelope takes up to seconds per example to generate), plus the documented examples and
schemathesis's coverage phase (boundary values, every unexpected method) of every route but POST /webhook, whose
~600 coverage cases take a minute or more to generate: the short run leaves bodies to test_fuzz_webhook.py.
`make fuzz` runs 1,000 examples per route, 300 for the webhook, and its coverage phase (FUZZ_LONG=1). No hypothesis
deadline (timings are never asserted); a per-request timeout of 20 s catches a hang instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fakeredis
import orjson
import pytest
import redis as sync_redis
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig

from app.config import Settings
from app.main import create_app
from app.whatsapp.signature import sign
from tests.conftest import free_port
from tests.in_thread import served

load_all_checks()
from schemathesis.checks import (  # noqa: E402  (registered by load_all_checks)
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
WEBHOOK_EXAMPLES = int(os.environ.get("FUZZ_WEBHOOK_EXAMPLES", "6"))
LONG = os.environ.get("FUZZ_LONG", "") == "1"
NO_COVERAGE = {"coverage": {"enabled": False}}
APP_SECRET = "fuzz-app-secret-0123456789"
ADMIN_TOKEN = "fuzz-admin-token-0123456789"
CLIENT_KEY = "fuzz-client-key-0123456789"
COMMON: dict[str, Any] = {
    "whatsapp_app_secret": APP_SECRET,
    "whatsapp_verify_token": "fuzz-verify-token",
    "admin_token": ADMIN_TOKEN,
    "credex_client_api_key": CLIENT_KEY,
    "docs_enabled": True,
    "inbox_drain_seconds": 0.5,
    "whatsapp_mark_read": False,
}


def no_server_error(ctx: Any, response: Any, case: Case) -> bool | None:
    """5xx only as the documented 503 (the store or inbox unavailable): anything else is a crash."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{response.status_code} from {case.method} {case.path}: {response.text[:300]}")
    return None


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_header_conformance,
]


class Credentials(requests.Session):
    """A caller holding what a real one holds: the app secret, the admin token and the client key."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = (request.path_url or "").partition("?")[0]
        if path == "/webhook" and request.method == "POST" and "x-hub-signature-256" in request.headers:
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else body
            assert isinstance(raw, bytes)
            request.headers["X-Hub-Signature-256"] = sign(APP_SECRET.encode(), raw)
        if path.startswith("/admin") and "authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        if path == "/notify" and "x-client-api-key" not in request.headers:
            request.headers["x-client-api-key"] = CLIENT_KEY
        return super().send(request, **kwargs)

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        return super().get(f"{self.base_url}{url!s}", **kwargs)


def document_app(mode: str) -> FastAPI:
    """The app of a mode as its document describes it; never started: requests go to the fixtures' apps."""
    extra: dict[str, Any] = {"credex_api_url": "http://127.0.0.1:9"} if mode == "production" else {}
    return create_app(Settings(app_env=mode, **COMMON, **extra), redis=fakeredis.FakeAsyncRedis())


def load_schema(mode: str) -> Any:
    document = document_app(mode).openapi()
    operations = [] if LONG else [{"include-path": "/webhook", "include-method": "POST", "phases": NO_COVERAGE}]
    config = SchemathesisConfig.from_dict({"operations": operations})
    return schemathesis.openapi.from_dict(orjson.loads(orjson.dumps(document)), config=config)


@contextmanager
def started(app: FastAPI) -> Iterator[Credentials]:
    """The app served by uvicorn on a free loopback port, in a thread of this process, lifespan and workers
    included; stopped as uvicorn stops on SIGTERM (the workers drain)."""
    with served(app, log_config=None, access_log=False, lifespan="on") as url:
        yield Credentials(url)


@pytest.fixture(scope="module")
def development() -> Iterator[Credentials]:
    """Development: embedded store, credex sandbox, dev outbox and simulator routes mounted."""
    with started(create_app(Settings(app_env="development", **COMMON))) as client:
        yield client


@pytest.fixture(scope="module")
def production(real_redis_url: str) -> Iterator[Credentials]:
    """Production on the test's real Redis db; credex-core is a closed loopback port (every call fails fast)."""
    sync_redis.Redis.from_url(real_redis_url).flushdb()
    app = create_app(
        Settings(
            app_env="production",
            redis_url=real_redis_url,
            credex_api_url=f"http://127.0.0.1:{free_port()}",
            **COMMON,
        )
    )
    try:
        with started(app) as client:
            yield client
    finally:
        sync_redis.Redis.from_url(real_redis_url).flushdb()


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _call(case: Case, client: Credentials) -> None:
    response = case.call(base_url=client.base_url, session=client, timeout=20)
    case.validate_response(response, checks=CHECKS)


DEVELOPMENT, PRODUCTION = load_schema("development"), load_schema("production")


@DEVELOPMENT.exclude(path="/webhook", method="POST").parametrize()
@FUZZ
def test_development_routes(case: Case, development: Credentials) -> None:
    _call(case, development)


@DEVELOPMENT.exclude(lambda ctx: ctx.operation.label != "POST /webhook").parametrize()
@settings(FUZZ, max_examples=WEBHOOK_EXAMPLES)
def test_development_webhook(case: Case, development: Credentials) -> None:
    _call(case, development)


@PRODUCTION.exclude(path="/webhook", method="POST").parametrize()
@FUZZ
def test_production_routes(case: Case, production: Credentials) -> None:
    _call(case, production)


@PRODUCTION.exclude(lambda ctx: ctx.operation.label != "POST /webhook").parametrize()
@settings(FUZZ, max_examples=WEBHOOK_EXAMPLES)
def test_production_webhook(case: Case, production: Credentials) -> None:
    _call(case, production)


def test_production_document_has_no_development_routes(production: Credentials) -> None:
    paths = set(production.get("/openapi.json").json()["paths"])
    assert paths and not {p for p in paths if p.startswith(("/dev", "/simulator", "/sandbox"))}
    for path in ("/dev/outbox/263770000001", "/simulator", "/sandbox/credex/v1/members"):
        assert production.get(path).status_code == 404
