"""Helpers for the credex client and sandbox tests: a deterministic sandbox, and transports that record every
exchange, lose a response after the sandbox applied the request, fail to connect, or rewrite headers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from app.credex import CredexAuth, CredexClient
from app.credex.sandbox import Sandbox, create_sandbox_app, sandbox_of
from app.credex.sandbox_support import ManualClock, SequentialIds

API_KEY = "test-client-key-0123456789"
BASE_URL = "http://credex.test"
ALICE, BOB, CHIPO = "263770000001", "263770000002", "263770000003"
START = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


@dataclass
class Exchange:
    path: str
    request_headers: httpx.Headers
    request_body: bytes
    status: int
    response_headers: httpx.Headers
    response_body: bytes


class Wrapper(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)


class Recording(Wrapper):
    """Keeps every request and answer, as the wire saw them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.exchanges.append(
            Exchange(request.url.path, request.headers, request.content, response.status_code, response.headers, body)
        )
        return response


class LoseResponse(Wrapper):
    """The sandbox receives and applies the request, then the answer is lost as a read timeout."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *paths: str) -> None:
        super().__init__(inner)
        self.paths = set(paths)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path in self.paths:
            await response.aread()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


class Unreachable(Wrapper):
    """Connecting fails for these paths: nothing reaches the sandbox."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *paths: str) -> None:
        super().__init__(inner)
        self.paths = set(paths)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.paths:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


class BareTokenHeader(Wrapper):
    """Rewrites a refreshed `Authorization: Bearer x` response header to plain `x` (both forms occur)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        value = response.headers.get("authorization")
        if value and value.lower().startswith("bearer "):
            response.headers["authorization"] = value[7:]
        return response


class DropBearer(Wrapper):
    """Strips the bearer token from requests to these paths, so they are always 401."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *paths: str) -> None:
        super().__init__(inner)
        self.paths = set(paths)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.paths:
            del request.headers["authorization"]
        return await self.inner.handle_async_request(request)


@dataclass
class SandboxEnv:
    """A seeded sandbox on a manual clock with sequential ids, and clients wired to it."""

    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    app: FastAPI = field(init=False)

    def __post_init__(self) -> None:
        self.app = create_sandbox_app(clock=self.clock, ids=SequentialIds(), api_key=API_KEY)

    @property
    def sandbox(self) -> Sandbox:
        return sandbox_of(self.app)

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    def client(self, *wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]) -> CredexClient:
        transport = self.transport()
        for wrapper in wrap:
            transport = wrapper(transport)
        return CredexClient(BASE_URL, API_KEY, transport=transport)


async def logged_in(client: CredexClient, phone: str) -> CredexAuth:
    auth = CredexAuth(phone=phone)
    await client.login(auth)
    return auth
