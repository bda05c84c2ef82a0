"""The Cloud API sender: one pooled HTTP client, retries keyed on the Graph API error code.

Errors are classified by the JSON body's `error.code`, never by the HTTP status, because sources disagree
on whether a rate limit comes back as 400 or 429 (PROTOCOL.md section 5). Recipients are masked and the
access token is never logged.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Protocol

import httpx
import orjson
from pydantic import SecretStr

from app.config import MAX_SENDS_IN_FLIGHT, WHATSAPP_API_VERSION, Settings
from app.logs import get_logger
from app.masking import mask_phone
from app.whatsapp.graph_http import (
    AiohttpGraphHttp,
    GraphAnswer,
    GraphHttp,
    HttpxGraphHttp,
    TransportFailure,
)
from app.whatsapp.messages import OutboundMessage

log = get_logger(__name__)

PAIR_RATE_LIMIT = 131056
"""1 message per 6 s to one user; Meta's guidance is to retry after 4^X seconds."""
PAIR_DELAYS: tuple[float, ...] = (1.0, 4.0, 16.0)
RATE_LIMIT_CODES = frozenset({130429, 80007, 4})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SendResult:
    """`retryable` on a failure: the cause was transient, so a later try (e.g. from an outbox) may work."""

    ok: bool
    message_id: str | None = None
    error_code: int | None = None
    attempts: int = 1
    retryable: bool = False


class Sender(Protocol):
    async def send(self, recipient: str, message: OutboundMessage) -> SendResult: ...


class _Kind(Enum):
    OK = "ok"
    PAIR = "pair"  # fixed 1, 4, 16 s schedule
    RETRY = "retry"  # exponential backoff with jitter
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class _Outcome:
    kind: _Kind
    status: int | None = None
    code: int | None = None
    message_id: str | None = None
    error: dict[str, Any] | None = None  # loggable fields of the Graph error object


_LONG_NUMBER = re.compile(r"\d{7,}")


def _scrub(text: str) -> str:
    """Meta's error details help debugging; mask anything in them that could be a phone number."""
    return _LONG_NUMBER.sub(lambda m: mask_phone(m.group()), text)[:200]


def _kind_for(code: int | None, status: int) -> _Kind:
    if code == PAIR_RATE_LIMIT:
        return _Kind.PAIR
    if code in RATE_LIMIT_CODES or code in TRANSIENT_CODES:
        return _Kind.RETRY
    if code is None and (status >= 500 or status == 429):
        return _Kind.RETRY  # no Graph error object: a proxy or load balancer answered
    return _Kind.PERMANENT


def _classify(response: GraphAnswer) -> _Outcome:
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), int) else None
        data = error.get("error_data")
        details = data.get("details") if isinstance(data, dict) else None
        fields = {
            "error_type": error.get("type"),
            "fbtrace_id": error.get("fbtrace_id"),
            "detail": _scrub(str(details)) if details else None,
        }
        return _Outcome(_kind_for(code, response.status), response.status, code, error=fields)
    if 200 <= response.status < 300:
        message_id = None
        messages = body.get("messages") if isinstance(body, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            message_id = messages[0].get("id")
        return _Outcome(_Kind.OK, response.status, message_id=message_id)
    return _Outcome(_kind_for(None, response.status), response.status)


class CloudApiClient:
    """Sends messages through the Graph API on one pooled HTTP client (`graph_http.py`: aiohttp's pool, or a
    caller's `httpx.AsyncClient`). Every transport error is retried here, so the coarse mapping of network
    errors changes nothing. The credex client stays on httpx/httpcore, where telling "never sent" from "maybe
    applied" matters for writes.

    Retries run inside `send`, bounded by `retry_budget` seconds in total (time asleep or waiting on the
    network) and by `max_attempts`. Network errors and timeouts are retried too: after a read timeout Meta
    may already have accepted the message, so the member can get it twice. A duplicate text is the lesser
    evil next to a lost one (a payment confirmation, a menu). `sleep` is injectable so tests record delays.
    """

    def __init__(
        self,
        *,
        access_token: str | SecretStr,
        phone_number_id: str,
        api_url: str = "https://graph.facebook.com",
        api_version: str = WHATSAPP_API_VERSION,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        retry_budget: float = 30.0,
        max_attempts: int = 10,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        rng: random.Random | None = None,
        max_connections: int = MAX_SENDS_IN_FLIGHT,
    ) -> None:
        self._token = access_token if isinstance(access_token, SecretStr) else SecretStr(access_token)
        self.url = f"{api_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._http: GraphHttp = HttpxGraphHttp(client) if client is not None else AiohttpGraphHttp(max_connections)
        self._sleep = sleep
        self.retry_budget = retry_budget
        self.max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._in_flight = asyncio.Semaphore(max_connections)
        """Sends wait here for a free connection, untimed: a wait for our own pool is not a failed attempt (it
        was counted as one under the pool timeout, and a reply Meta would have taken ended as a dead letter)."""

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> CloudApiClient:
        """Build from WHATSAPP_* settings; `kwargs` go to `__init__` (client, sleep, retry_budget...)."""
        if settings.whatsapp_access_token is None or not settings.whatsapp_access_token.get_secret_value():
            raise ValueError("WHATSAPP_ACCESS_TOKEN is not set")
        kwargs.setdefault("max_connections", settings.whatsapp_max_connections)
        return cls(
            access_token=settings.whatsapp_access_token,
            phone_number_id=settings.whatsapp_phone_number_id,
            api_url=settings.whatsapp_api_url,
            api_version=settings.whatsapp_api_version,
            **kwargs,
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it (a client passed in belongs to the caller)."""
        await self._http.aclose()

    async def __aenter__(self) -> CloudApiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _backoff(self, retry: int) -> float:
        """Exponential with "equal jitter": never below half the step, so a retry storm still spreads out."""
        step = min(self._backoff_cap, self._backoff_base * 2.0**retry)
        return step / 2 + self._rng.uniform(0, step / 2)

    async def _post(self, payload: dict[str, Any]) -> _Outcome | TransportFailure:
        headers = {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "Content-Type": "application/json",
        }
        try:
            async with self._in_flight:
                response = await self._http.post(self.url, orjson.dumps(payload), headers)
        except TransportFailure as exc:
            return exc
        return _classify(response)

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Send one message, retrying transient failures inside the budget; never raises for API errors."""
        payload = message.to_payload(recipient)
        bound = log.bind(kind=message.kind, to=mask_phone(recipient))
        started = time.monotonic()
        slept = 0.0
        attempts = pair_hits = retries = 0
        while True:
            attempts += 1
            outcome = await self._post(payload)
            context: dict[str, Any]
            if isinstance(outcome, TransportFailure):
                code, kind, context = None, _Kind.RETRY, {"network_error": outcome.cause}
            else:
                code, kind = outcome.code, outcome.kind
                context = {"status": outcome.status, **(outcome.error or {})}
            if isinstance(outcome, _Outcome) and kind is _Kind.OK:
                bound.info("whatsapp_sent", attempts=attempts, message_id=outcome.message_id)
                return SendResult(ok=True, message_id=outcome.message_id, attempts=attempts)
            if kind is _Kind.PERMANENT:
                bound.warning("whatsapp_send_failed", code=code, attempts=attempts, **context)
                return SendResult(ok=False, error_code=code, attempts=attempts, retryable=False)

            if kind is _Kind.PAIR:
                delay = PAIR_DELAYS[pair_hits] if pair_hits < len(PAIR_DELAYS) else None
                pair_hits += 1
            else:
                delay = self._backoff(retries)
                retries += 1
            # Time on the wall clock, or asleep when `sleep` is a test double that returns at once.
            elapsed = max(time.monotonic() - started, slept)
            if delay is None or attempts >= self.max_attempts or elapsed + delay > self.retry_budget:
                bound.warning("whatsapp_send_gave_up", code=code, attempts=attempts, **context)
                return SendResult(ok=False, error_code=code, attempts=attempts, retryable=True)
            bound.info("whatsapp_send_retry", code=code, attempts=attempts, delay=round(delay, 3), **context)
            await self._sleep(delay)
            slept += delay
