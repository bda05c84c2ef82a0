"""CredexClient's wire rules and failure policy: headers, exact amounts, 5xx, malformed answers, log hygiene,
and the sandbox's atomicity under concurrent requests."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from app.config import Settings
from app.credex import (
    CredexAuth,
    CredexBadResponse,
    CredexClient,
    CredexRejected,
    CredexUnavailable,
    CredexWriteUnconfirmed,
    jsonio,
)
from app.credex.models import Denomination
from tests.credex_support import ALICE, API_KEY, BASE_URL, BOB, CHIPO, Recording, SandboxEnv, logged_in


def stub(status: int, content: bytes) -> CredexClient:
    """A client against a canned answer: for shapes the sandbox never sends."""
    return CredexClient(
        BASE_URL, API_KEY, transport=httpx.MockTransport(lambda _: httpx.Response(status, content=content))
    )


async def test_api_key_on_every_call_and_bearer_on_all_but_login_and_onboarding() -> None:
    env = SandboxEnv()
    recording = Recording(env.transport())
    client = CredexClient(BASE_URL, API_KEY, transport=recording)
    newcomer = CredexAuth(phone="263775550000")
    await client.onboard_member(newcomer, firstname="Rudo", lastname="Dube")
    alice = await logged_in(client, ALICE)
    await client.get_member_dashboard(alice)
    await client.get_member_by_handle(alice, BOB)
    for exchange in recording.exchanges:
        assert exchange.request_headers["x-client-api-key"] == API_KEY
        bearer = exchange.request_headers.get("authorization")
        if exchange.path in ("/login", "/onboardMember"):
            assert bearer is None
        else:
            assert bearer == f"Bearer {alice.token}"
    await client.aclose()


async def test_amounts_travel_as_exact_json_numbers() -> None:
    env = SandboxEnv()
    recording = Recording(env.transport())
    client = CredexClient(BASE_URL, API_KEY, transport=recording)
    alice = await logged_in(client, ALICE)
    ledger = env.sandbox.ledger
    created = await client.create_credex(
        alice,
        issuer_account_id=ledger.account_by_handle(ALICE).account_id,
        receiver_account_id=ledger.account_by_handle(CHIPO).account_id,
        amount=Decimal("2345.10"),
        denomination=Denomination.ZWG,
        secured=True,
    )
    [sent] = [e for e in recording.exchanges if e.path == "/createCredex"]
    assert b'"InitialAmount":2345.10' in sent.request_body
    assert ledger.credexes[created.details.credex_id or ""].amount == Decimal("2345.10")
    assert jsonio.loads(b'{"a": 0.30000000000000004}')["a"] == Decimal("0.30000000000000004")
    with pytest.raises(TypeError):
        jsonio.dumps({"amount": 0.1})
    await client.aclose()


async def test_server_errors_are_unavailable_on_reads_and_unconfirmed_on_writes() -> None:
    env = SandboxEnv()
    client = env.client()
    alice = await logged_in(client, ALICE)
    personal = env.sandbox.ledger.account_by_handle(ALICE).account_id
    env.sandbox.inject_failure("/getBalances", 500)
    with pytest.raises(CredexUnavailable):
        await client.get_balances(alice, personal)
    env.sandbox.inject_failure("/createCredex", 503)
    offers = len(env.sandbox.ledger.credexes)
    with pytest.raises(CredexWriteUnconfirmed):
        await client.create_credex(
            alice,
            issuer_account_id=personal,
            receiver_account_id=env.sandbox.ledger.account_by_handle(BOB).account_id,
            amount=Decimal("1.00"),
            denomination=Denomination.USD,
            secured=True,
        )
    assert (env.sandbox.requests["/getBalances"], env.sandbox.requests["/createCredex"]) == (1, 1)
    assert len(env.sandbox.ledger.credexes) == offers
    await client.aclose()


@pytest.mark.parametrize(
    "content",
    [b"<html>gateway</html>", b'{"message": "ok"}', b'{"message": "ok", "data": {"action": {"details": {}}}}'],
)
async def test_a_success_without_what_we_need_is_a_bad_response(content: bytes) -> None:
    client = stub(200, content)
    auth = CredexAuth(phone=ALICE)
    with pytest.raises(CredexBadResponse) as bad:
        await client.login(auth)
    assert bad.value.endpoint == "login" and auth.token is None
    await client.aclose()


async def test_a_dashboard_without_accounts_is_a_bad_response() -> None:
    body = {
        "message": "ok",
        "data": {
            "action": {
                "details": {
                    "memberID": "m",
                    "firstname": "A",
                    "lastname": "B",
                    "memberHandle": "h",
                    "defaultDenom": "USD",
                    "memberTier": 1,
                }
            },
            "dashboard": {"memberTier": 1},
        },
    }
    client = stub(200, json.dumps(body).encode())
    with pytest.raises(CredexBadResponse) as bad:
        await client.get_member_dashboard(CredexAuth(phone=ALICE, token="t"))
    assert "accounts" in bad.value.problem
    await client.aclose()


async def test_rejections_carry_the_trimmed_server_message() -> None:
    noisy = {"message": "  Your  offer\n\nwas refused " + "x" * 900, "data": {"action": {"details": {"code": "NOPE"}}}}
    client = stub(400, json.dumps(noisy).encode())
    with pytest.raises(CredexRejected) as refused:
        await client.get_member_by_handle(CredexAuth(phone=ALICE, token="t"), "somebody")
    assert refused.value.message.startswith("Your offer was refused x") and len(refused.value.message) <= 300
    assert (refused.value.status, refused.value.code) == (400, "NOPE")
    await client.aclose()
    plain = stub(404, b"Not Found")
    with pytest.raises(CredexRejected) as bare:
        await plain.get_member_by_handle(CredexAuth(phone=ALICE, token="t"), "somebody")
    assert bare.value.message == "credex-core refused the request (HTTP 404)" and bare.value.code is None
    await plain.aclose()


async def test_logs_carry_endpoint_status_duration_and_no_secrets() -> None:
    env = SandboxEnv()
    client = env.client()
    with capture_logs() as logs:
        alice = await logged_in(client, ALICE)
        await client.get_member_dashboard(alice)
        with pytest.raises(CredexRejected):
            await client.get_account_by_handle(alice, "nobody_here")
    calls = [e for e in logs if e["event"] == "credex.call"]
    assert [(e["endpoint"], e["status"]) for e in calls] == [
        ("login", 200),
        ("getMemberDashboardByPhone", 200),
        ("getAccountByHandle", 404),
    ]
    assert all(isinstance(e["duration_ms"], float) and e["phone"] == "2637****0001" for e in calls)
    text = repr(logs)
    assert alice.token is not None and alice.token not in text
    assert API_KEY not in text and ALICE not in text
    await client.aclose()


async def test_concurrent_accepts_of_one_offer_apply_it_once() -> None:
    env = SandboxEnv()
    client = env.client()
    bob = await logged_in(client, BOB)
    [seeded] = (await client.get_member_dashboard(bob)).dashboard.accounts[0].pending_offers.incoming
    bob_account = env.sandbox.ledger.account_by_handle(BOB)
    before = bob_account.secured["USD"]
    results = await asyncio.gather(
        *(client.accept_credex(bob, seeded.credex_id) for _ in range(5)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, CredexRejected)]
    assert len(refused) == 4 and {r.status for r in refused} == {409}
    assert bob_account.secured["USD"] == before + Decimal("25.00")
    await client.aclose()


async def test_concurrent_offers_never_overspend_the_secured_balance() -> None:
    env = SandboxEnv()
    client = env.client()
    alice = await logged_in(client, ALICE)
    ledger = env.sandbox.ledger
    ids: dict[str, Any] = {
        "issuer_account_id": ledger.account_by_handle(ALICE).account_id,
        "receiver_account_id": ledger.account_by_handle(CHIPO).account_id,
    }
    results = await asyncio.gather(
        *(
            client.create_credex(alice, **ids, amount=Decimal("50.00"), denomination=Denomination.USD, secured=True)
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, CredexRejected)]
    assert len(refused) == 1 and refused[0].code == "INSUFFICIENT_SECURED_BALANCE"  # 463.00 covers 9 x 50.00
    assert ledger.available_secured(ledger.account_by_handle(ALICE), "USD") == Decimal("13.00")
    await client.aclose()


async def test_construction_from_settings_and_borrowed_http_clients() -> None:
    with pytest.raises(ValueError, match="CREDEX_API_URL"):
        CredexClient.from_settings(Settings(app_env="development"))
    env = SandboxEnv()
    http = httpx.AsyncClient(transport=env.transport())
    settings = Settings(app_env="development", credex_api_url=BASE_URL + "/", credex_client_api_key=API_KEY)
    client = CredexClient.from_settings(settings, http=http)
    await logged_in(client, ALICE)
    await client.aclose()
    assert not http.is_closed  # a borrowed client is the lender's to close
    await http.aclose()
