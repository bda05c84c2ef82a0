"""The HTTP under the Cloud API sender: one POST, answered with its status and body, or a transport failure.

Production sends on aiohttp's connection pool directly. Every reply and every read receipt is one POST, so the
client's own per-request cost is most of a handled message's CPU: httpx's request and response models, cookie
handling and URL merging cost more than aiohttp's whole request on top of it (bench/RESULTS.md, profile of
the inbox bench). The sender needs none of them: one URL, fixed headers, a JSON body, no cookies, no redirects.
An `httpx.AsyncClient` can still be passed in (tests put a mock transport under it); both map their network
errors to one `TransportFailure`, which the sender retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx

from app.config import MAX_SENDS_IN_FLIGHT

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class GraphAnswer:
    status: int
    content: bytes


class TransportFailure(Exception):
    """The request failed on the network (refused, reset, timed out): it may or may not have reached Meta."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class GraphHttp(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> GraphAnswer: ...

    async def aclose(self) -> None: ...


class AiohttpGraphHttp:
    """aiohttp's pool, every connection kept alive: a burst of sends reuses them instead of reopening. The
    session is made on first use, inside the event loop that will run it."""

    def __init__(self, max_connections: int = MAX_SENDS_IN_FLIGHT) -> None:
        self._max = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=CONNECT_TIMEOUT_S, sock_connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S
        )

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._max, limit_per_host=self._max, keepalive_timeout=30)
        return aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),  # the Graph API sets no cookie we want
            trust_env=False,
            raise_for_status=False,
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> GraphAnswer:
        if self._session is None or self._session.closed:
            self._session = self._open()
        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                return GraphAnswer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportFailure(type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxGraphHttp:
    """A caller's `httpx.AsyncClient` (a test's mock transport, a proxy setup); closing it is the caller's."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> GraphAnswer:
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise TransportFailure(type(exc).__name__) from exc
        return GraphAnswer(response.status_code, response.content)

    async def aclose(self) -> None:
        return None
