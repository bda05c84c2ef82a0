"""CloudApiClient against a local stub of the Graph API (an ASGI app behind httpx.ASGITransport).

The stub records every request it receives and answers from a script, so each test checks what went over
the wire and what `send` reported; `sleep` is a recorder, so backoff costs no time.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from app.config import Settings
from app.whatsapp.messages import MarkRead, Text
from app.whatsapp.outbound import CloudApiClient, Sender, SendResult
from tests.conftest import free_port

TOKEN = "EAAG-super-secret-token-123"
PHONE = "263771234567"
PHONE_ID = "1098765432"
WAMID = "wamid.HBgMMjYzNzcxMjM0NTY3FQIAERgSQUJDMTIz"

Step = tuple[int, Any] | Exception


def ok_body(wamid: str = WAMID) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": PHONE, "wa_id": PHONE}],
        "messages": [{"id": wamid}],
    }


def error_body(code: int, details: str = "try later") -> dict[str, Any]:
    return {
        "error": {
            "message": f"(#{code}) Something went wrong",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEf123",
        }
    }


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class GraphStub:
    """Answers `script` in order, then `then` forever; an Exception step is raised inside the app."""

    script: list[Step] = field(default_factory=list)
    then: Step = (200, None)
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[Route("/{version}/{phone_id}/messages", self._messages, methods=["POST"])])

    async def _messages(self, request: Request) -> Response:
        self.requests.append(Received(request.url.path, dict(request.headers), await request.json()))
        step = self.script.pop(0) if self.script else self.then
        if isinstance(step, Exception):
            raise step
        status, body = step
        if isinstance(body, str):
            return PlainTextResponse(body, status_code=status)
        return JSONResponse(ok_body() if body is None else body, status_code=status)


@dataclass
class Harness:
    stub: GraphStub
    http: httpx.AsyncClient
    delays: list[float] = field(default_factory=list)

    async def _sleep(self, delay: float) -> None:
        self.delays.append(delay)

    def client(self, **kwargs: Any) -> CloudApiClient:
        return CloudApiClient(
            access_token=TOKEN,
            phone_number_id=PHONE_ID,
            api_url="https://graph.test/",
            api_version="v25.0",
            client=self.http,
            sleep=self._sleep,
            rng=random.Random(7),
            **kwargs,
        )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    stub = GraphStub()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stub.app)) as http:
        yield Harness(stub, http)


async def test_success_parses_the_wamid_and_sends_the_right_request(harness: Harness) -> None:
    message = Text(body="Hello")
    result = await harness.client().send(PHONE, message)

    assert result == SendResult(ok=True, message_id=WAMID, error_code=None, attempts=1, retryable=False)
    [request] = harness.stub.requests
    assert request.path == f"/v25.0/{PHONE_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == "graph.test"
    assert request.body == message.to_payload(PHONE)
    assert harness.delays == []


async def test_bsuid_recipient_reaches_the_api_as_recipient(harness: Harness) -> None:
    await harness.client().send("US.13491208655302741918", Text(body="Hi"))
    assert harness.stub.requests[0].body["recipient"] == "US.13491208655302741918"
    assert "to" not in harness.stub.requests[0].body


async def test_mark_read_success_has_no_message_id(harness: Harness) -> None:
    harness.stub.then = (200, {"success": True})
    result = await harness.client().send(PHONE, MarkRead(message_id="wamid.IN"))
    assert result.ok and result.message_id is None
    assert harness.stub.requests[0].body == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
    }


async def test_pair_rate_limit_twice_then_success(harness: Harness) -> None:
    harness.stub.script = [(400, error_body(131056)), (400, error_body(131056))]
    result = await harness.client().send(PHONE, Text(body="Hi"))

    assert result.ok and result.message_id == WAMID and result.attempts == 3
    assert harness.delays == [1, 4]
    assert len(harness.stub.requests) == 3


async def test_pair_rate_limit_forever_gives_up_after_1_4_16(harness: Harness) -> None:
    harness.stub.then = (400, error_body(131056))
    result = await harness.client().send(PHONE, Text(body="Hi"))

    assert result == SendResult(ok=False, message_id=None, error_code=131056, attempts=4, retryable=True)
    assert harness.delays == [1, 4, 16]
    assert len(harness.stub.requests) == 4


async def test_outside_24h_window_is_not_retried(harness: Harness) -> None:
    harness.stub.then = (400, error_body(131047))
    result = await harness.client().send(PHONE, Text(body="Hi"))

    assert result == SendResult(ok=False, message_id=None, error_code=131047, attempts=1, retryable=False)
    assert len(harness.stub.requests) == 1
    assert harness.delays == []


@pytest.mark.parametrize("code", [100, 131026, 131048, 131049, 190])
async def test_other_errors_are_permanent(harness: Harness, code: int) -> None:
    harness.stub.then = (400, error_body(code))
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result == SendResult(ok=False, error_code=code, attempts=1, retryable=False)
    assert len(harness.stub.requests) == 1


async def test_throughput_limit_retries_with_growing_jittered_backoff(harness: Harness) -> None:
    harness.stub.script = [(429, error_body(130429))] * 3
    result = await harness.client().send(PHONE, Text(body="Hi"))

    assert result.ok and result.attempts == 4
    assert len(harness.delays) == 3
    for n, delay in enumerate(harness.delays):
        step = 0.5 * 2**n
        assert step / 2 <= delay <= step  # exponential, with jitter in the upper half


async def test_throughput_limit_forever_stops_inside_the_budget(harness: Harness) -> None:
    harness.stub.then = (429, error_body(130429))
    result = await harness.client(retry_budget=5.0).send(PHONE, Text(body="Hi"))

    assert not result.ok and result.error_code == 130429 and result.retryable
    assert 0 < sum(harness.delays) <= 5.0
    assert len(harness.delays) >= 3
    assert len(harness.stub.requests) == result.attempts == len(harness.delays) + 1


async def test_default_budget_bounds_total_backoff(harness: Harness) -> None:
    harness.stub.then = (400, error_body(80007))
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert not result.ok and result.retryable and result.error_code == 80007
    assert sum(harness.delays) <= 30.0
    assert result.attempts <= 10


async def test_max_attempts_caps_requests(harness: Harness) -> None:
    harness.stub.then = (400, error_body(131000))
    result = await harness.client(max_attempts=3).send(PHONE, Text(body="Hi"))
    assert result.attempts == 3 and len(harness.stub.requests) == 3 and len(harness.delays) == 2


@pytest.mark.parametrize("code", [4, 80007, 130429, 1, 2, 131000, 131016, 133004])
async def test_rate_limit_and_transient_codes_are_retried(harness: Harness, code: int) -> None:
    harness.stub.script = [(400, error_body(code))]
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result.ok and result.attempts == 2 and len(harness.delays) == 1


async def test_code_wins_over_status_400_pair_limit_is_retried(harness: Harness) -> None:
    harness.stub.script = [(400, error_body(131056))]
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result.ok and harness.delays == [1]


async def test_code_wins_over_status_429_window_error_is_permanent(harness: Harness) -> None:
    harness.stub.then = (429, error_body(131047))
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result.error_code == 131047 and not result.retryable
    assert len(harness.stub.requests) == 1 and harness.delays == []


async def test_server_error_without_graph_body_is_retried(harness: Harness) -> None:
    harness.stub.script = [(502, "<html>Bad gateway</html>")]
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result.ok and result.attempts == 2


async def test_client_error_without_graph_body_is_permanent(harness: Harness) -> None:
    harness.stub.then = (404, "not found")
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result == SendResult(ok=False, error_code=None, attempts=1, retryable=False)


async def test_timeout_is_retried_then_succeeds(harness: Harness) -> None:
    harness.stub.script = [httpx.ReadTimeout("read timed out")]
    result = await harness.client().send(PHONE, Text(body="Hi"))
    assert result.ok and result.attempts == 2 and len(harness.delays) == 1
    assert len(harness.stub.requests) == 2


async def test_timeout_forever_is_reported_as_retryable(harness: Harness) -> None:
    harness.stub.then = httpx.ConnectTimeout("connect timed out")
    result = await harness.client(retry_budget=3.0).send(PHONE, Text(body="Hi"))
    assert not result.ok and result.error_code is None and result.retryable
    assert result.attempts > 1 and len(harness.stub.requests) == result.attempts
    assert sum(harness.delays) <= 3.0


async def test_logs_mask_the_recipient_and_never_hold_the_token(harness: Harness) -> None:
    harness.stub.script = [
        (400, error_body(131056)),
        httpx.ReadTimeout("timed out"),
        (200, None),
        (400, error_body(131047, details=f"Recipient {PHONE} is outside the window")),
    ]
    client = harness.client()
    with capture_logs() as logs:
        assert (await client.send(PHONE, Text(body="Hi"))).ok
        assert (await client.send(PHONE, Text(body="Hi"))).error_code == 131047

    captured = repr(logs)
    assert TOKEN not in captured and "Bearer" not in captured
    assert PHONE not in captured
    assert "2637****4567" in captured
    events = [(entry["event"], entry.get("code")) for entry in logs]
    assert events == [
        ("whatsapp_send_retry", 131056),
        ("whatsapp_send_retry", None),
        ("whatsapp_sent", None),
        ("whatsapp_send_failed", 131047),
    ]
    assert TOKEN not in repr(client)


async def test_cloud_api_client_is_a_sender(harness: Harness) -> None:
    sender: Sender = harness.client()
    assert (await sender.send(PHONE, Text(body="Hi"))).ok


async def test_from_settings_builds_the_url(harness: Harness) -> None:
    settings = Settings(
        app_env="development",
        whatsapp_access_token=TOKEN,
        whatsapp_phone_number_id="555",
        whatsapp_api_url="https://graph.test",
        whatsapp_api_version="v22.0",
    )
    client = CloudApiClient.from_settings(settings, client=harness.http)
    assert (await client.send(PHONE, Text(body="Hi"))).ok
    assert harness.stub.requests[0].path == "/v22.0/555/messages"
    assert harness.stub.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_from_settings_requires_a_token() -> None:
    with pytest.raises(ValueError, match="WHATSAPP_ACCESS_TOKEN"):
        CloudApiClient.from_settings(Settings(app_env="development", whatsapp_access_token=None))


async def test_aclose_closes_only_an_owned_client(harness: Harness) -> None:
    await harness.client().aclose()
    assert not harness.http.is_closed  # passed in: belongs to the caller

    dead_end = f"http://127.0.0.1:{free_port()}"  # nothing listens: refused at once
    async with CloudApiClient(access_token=TOKEN, phone_number_id=PHONE_ID, api_url=dead_end, max_attempts=1) as owned:
        result = await owned.send(PHONE, Text(body="Hi"))
        session = owned._http._session  # type: ignore[attr-defined]  # aiohttp's, made on first use
    assert not result.ok and result.retryable  # a network failure: worth retrying later
    assert session is not None and session.closed
