"""The HTTP core under CredexClient: one pooled httpx client, headers, timing logs, and the failure policy.

Policy, per call class:
- reads (login, dashboard, handle lookups, balances, getCredex, getLedger): a 401 triggers one re-login and one
  repeat; a timeout or dropped connection is `CredexUnavailable`.
- writes: never repeated. A 401 is `CredexUnauthorized` (the token is dropped so the next call logs in first);
  a timeout, dropped connection or 5xx after the request left is `CredexWriteUnconfirmed`. A failure to even
  connect (nothing was sent) is `CredexUnavailable` for reads and writes alike.
The JWT is the caller's: it travels in `CredexAuth`, which is updated in place when credex-core refreshes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from app.credex import jsonio
from app.credex.errors import (
    CredexBadResponse,
    CredexInvalidRequest,
    CredexRejected,
    CredexUnauthorized,
    CredexUnavailable,
    CredexWriteUnconfirmed,
)
from app.credex.models import CredexRequest, LoginResponse, PhoneRequest
from app.logs import get_logger
from app.masking import mask_phone

log = get_logger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
IDEMPOTENCY_HEADER = "Idempotency-Key"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=CredexRequest)


@dataclass
class CredexAuth:
    """Who is calling: the member's phone, and the JWT from the conversation state (None before login)."""

    phone: str
    token: str | None = None


@dataclass(frozen=True)
class Endpoint:
    path: str
    write: bool
    bearer: bool = True

    @property
    def name(self) -> str:
        return self.path.lstrip("/")


def token_from_header(value: str | None) -> str | None:
    """A refreshed JWT from an `Authorization` response header, with or without the 'Bearer ' prefix."""
    if not value:
        return None
    token = value.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token or None


def _validation_summary(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False, include_context=False)[:5]
    ]
    return "; ".join(parts)


def build_request(model: type[R], endpoint: Endpoint, **fields: Any) -> R:
    """Validate a request against the contract before anything is sent (no input values in the message)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise CredexInvalidRequest(
            f"invalid {field or 'request'}: {first['msg']}", endpoint=endpoint.name, field=field
        ) from exc


LOGIN = Endpoint("/login", write=False, bearer=False)


class CredexHttp:
    """Owns (or borrows) the pooled AsyncClient and runs every call through the same policy."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        if http is not None and transport is not None:
            raise ValueError("pass an httpx.AsyncClient or a transport, not both")
        self._base_url = base_url.rstrip("/")
        self.observe: Callable[[str, str, float], None] | None = None
        """Metrics hook: (endpoint, outcome, seconds) after every HTTP attempt; outcome is the status or the error."""
        self._api_key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._timeout = timeout
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=timeout, limits=limits)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _login(self, auth: CredexAuth) -> LoginResponse:
        request = build_request(PhoneRequest, LOGIN, phone=auth.phone)
        response = await self._call(auth, LOGIN, request, LoginResponse)
        auth.token = response.details.token
        return response

    async def _call(
        self,
        auth: CredexAuth,
        endpoint: Endpoint,
        request: CredexRequest,
        model: type[M],
        idempotency_key: str | None = None,
    ) -> M:
        """`idempotency_key` travels as `Idempotency-Key` (writes): a request to credex-core to perform a repeated
        write once; credex-core ignores it today, so it is no substitute for reconciling."""
        body = jsonio.dumps(request.payload())
        if endpoint.bearer and auth.token is None:
            await self._login(auth)
        response = await self._send(auth, endpoint, body, attempt=1, idempotency_key=idempotency_key)
        if response.status_code == 401:
            if endpoint.write:
                auth.token = None
                raise CredexUnauthorized("credex-core refused the token", endpoint=endpoint.name)
            if endpoint.bearer:
                await self._login(auth)
            response = await self._send(auth, endpoint, body, attempt=2, idempotency_key=idempotency_key)
            if response.status_code == 401:
                if endpoint.bearer:
                    auth.token = None
                raise CredexUnauthorized("credex-core refused the login", endpoint=endpoint.name)
        return self._parse(endpoint, response, model)

    async def _send(
        self, auth: CredexAuth, endpoint: Endpoint, body: bytes, *, attempt: int, idempotency_key: str | None = None
    ) -> httpx.Response:
        headers = {
            "x-client-api-key": self._api_key,
            "content-type": "application/json",
            "accept": "application/json",
        }
        if idempotency_key:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        if endpoint.bearer and auth.token:
            headers["authorization"] = f"Bearer {auth.token}"
        started = time.perf_counter()
        fields: dict[str, Any] = {"endpoint": endpoint.name, "phone": mask_phone(auth.phone), "attempt": attempt}
        try:
            response = await self._http.post(
                f"{self._base_url}{endpoint.path}", content=body, headers=headers, timeout=self._timeout
            )
        except _NOT_SENT as exc:
            self._observe(endpoint, "unreachable", started)
            log.warning("credex.unreachable", error=type(exc).__name__, duration_ms=_ms(started), **fields)
            raise CredexUnavailable("credex-core could not be reached", endpoint=endpoint.name) from exc
        except httpx.TransportError as exc:
            self._observe(
                endpoint, "timeout" if isinstance(exc, httpx.TimeoutException) else "transport_error", started
            )
            log.warning("credex.transport_error", error=type(exc).__name__, duration_ms=_ms(started), **fields)
            if endpoint.write:
                raise CredexWriteUnconfirmed("credex-core did not confirm the write", endpoint=endpoint.name) from exc
            raise CredexUnavailable("credex-core did not answer", endpoint=endpoint.name) from exc
        self._observe(endpoint, str(response.status_code), started)
        log.info("credex.call", status=response.status_code, duration_ms=_ms(started), **fields)
        refreshed = token_from_header(response.headers.get("authorization"))
        if refreshed is not None and refreshed != auth.token:
            auth.token = refreshed
            log.info("credex.token_refreshed", endpoint=endpoint.name, phone=fields["phone"])
        return response

    def _observe(self, endpoint: Endpoint, outcome: str, started: float) -> None:
        if self.observe is not None:
            self.observe(endpoint.name, outcome, time.perf_counter() - started)

    def _parse(self, endpoint: Endpoint, response: httpx.Response, model: type[M]) -> M:
        status = response.status_code
        if 200 <= status < 300:
            try:
                payload = jsonio.loads(response.content)
            except ValueError as exc:
                raise CredexBadResponse("body is not JSON", endpoint=endpoint.name, status=status) from exc
            try:
                return model.model_validate(payload)
            except ValidationError as exc:
                problem = _validation_summary(exc)
                log.error("credex.bad_response", endpoint=endpoint.name, status=status, problem=problem)
                raise CredexBadResponse(problem, endpoint=endpoint.name, status=status) from exc
        if status >= 500:
            if endpoint.write:
                raise CredexWriteUnconfirmed(f"credex-core failed (HTTP {status})", endpoint=endpoint.name)
            raise CredexUnavailable(f"credex-core failed (HTTP {status})", endpoint=endpoint.name)
        message, code = _error_text(response)
        log.info("credex.rejected", endpoint=endpoint.name, status=status, code=code)
        raise CredexRejected(status, message, code, endpoint=endpoint.name)


def _error_text(response: httpx.Response) -> tuple[str, str | None]:
    """The server's message and code from the error envelope, tolerating any shape (or none)."""
    try:
        body = jsonio.loads(response.content)
    except ValueError:
        return "", None
    action = _obj(_obj(_obj(body).get("data")).get("action"))
    details = _obj(action.get("details"))
    message = next((m for m in (_obj(body).get("message"), details.get("reason")) if isinstance(m, str) and m), "")
    code = next((c for c in (details.get("code"), action.get("type")) if isinstance(c, str) and c), None)
    return message, code


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
