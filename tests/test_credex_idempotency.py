"""Every credex-core write carries the caller's `Idempotency-Key` header; reads and keyless writes carry none.
The sandbox ignores the header (as credex-core does today): these tests see it arrive on the wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal

from app.credex import CredexAuth, CredexClient, CredexRejected
from app.credex.client_base import IDEMPOTENCY_HEADER
from app.credex.models import Denomination
from tests.credex_support import ALICE, API_KEY, BASE_URL, BOB, CHIPO, Recording, SandboxEnv, logged_in

Write = Callable[[CredexClient, CredexAuth, dict[str, str], str], Awaitable[object]]


async def _ignore_refusal(call: Awaitable[object]) -> None:
    """The header is what is tested: a write credex-core refuses still carried it."""
    try:
        await call
    except CredexRejected:
        pass


WRITES: dict[str, Write] = {
    "/createCredex": lambda c, a, ids, k: c.create_credex(
        a,
        issuer_account_id=ids["alice"],
        receiver_account_id=ids["bob"],
        amount=Decimal("1.00"),
        denomination=Denomination.USD,
        secured=True,
        idempotency_key=k,
    ),
    "/acceptCredex": lambda c, a, ids, k: c.accept_credex(a, ids["credex"], idempotency_key=k),
    "/declineCredex": lambda c, a, ids, k: c.decline_credex(a, ids["credex"], idempotency_key=k),
    "/cancelCredex": lambda c, a, ids, k: c.cancel_credex(a, ids["credex"], idempotency_key=k),
    "/acceptCredexBulk": lambda c, a, ids, k: c.accept_credex_bulk(a, [ids["credex"]], idempotency_key=k),
    "/createRecurring": lambda c, a, ids, k: c.subscribe_member_tier(
        a, ids["alice"], start_date=date(2025, 1, 15), idempotency_key=k
    ),
    "/createAccount": lambda c, a, ids, k: c.create_account(
        a,
        account_name="Key Test Shop",
        account_handle="key_test_shop",
        default_denom=Denomination.USD,
        idempotency_key=k,
    ),
    "/authorizeForAccount": lambda c, a, ids, k: c.authorize_for_account(a, ids["shop"], BOB, idempotency_key=k),
    "/unauthorizeForAccount": lambda c, a, ids, k: c.unauthorize_for_account(
        a, ids["shop"], ids["bob_member"], idempotency_key=k
    ),
    "/updateSendOffersTo": lambda c, a, ids, k: c.update_send_offers_to(
        a, ids["shop"], ids["bob_member"], idempotency_key=k
    ),
}


async def test_every_write_sends_the_idempotency_key_it_is_given() -> None:
    env = SandboxEnv()
    recording = Recording(env.transport())
    client = CredexClient(BASE_URL, API_KEY, transport=recording)
    ledger = env.sandbox.ledger
    ids = {
        "alice": ledger.account_by_handle(ALICE).account_id,
        "bob": ledger.account_by_handle(BOB).account_id,
        "shop": ledger.account_by_handle("alices_shop").account_id,
        "bob_member": ledger.member_by_phone(BOB).member_id,
        "credex": next(c.credex_id for c in ledger.credexes.values()),
    }
    alice = await logged_in(client, ALICE)
    for path, write in WRITES.items():
        await _ignore_refusal(write(client, alice, ids, f"key-{path.strip('/')}"))
    newcomer = CredexAuth(phone="263775550001")
    await client.onboard_member(newcomer, firstname="Rudo", lastname="Dube", idempotency_key="key-onboardMember")
    await client.get_member_dashboard(alice)
    sent = {e.path: e.request_headers.get(IDEMPOTENCY_HEADER) for e in recording.exchanges}
    for path in [*WRITES, "/onboardMember"]:
        assert sent[path] == f"key-{path.strip('/')}", path
    assert sent["/login"] is None and sent["/getMemberDashboardByPhone"] is None
    assert len(WRITES) + 1 == 11  # every write kind credex-core has for the bot
    await client.aclose()


async def test_a_write_without_a_key_sends_no_header() -> None:
    env = SandboxEnv()
    recording = Recording(env.transport())
    client = CredexClient(BASE_URL, API_KEY, transport=recording)
    chipo = await logged_in(client, CHIPO)
    pending = [c for c in env.sandbox.ledger.credexes.values() if c.status == "PENDING"]
    await _ignore_refusal(client.cancel_credex(chipo, pending[0].credex_id))
    assert all(IDEMPOTENCY_HEADER not in e.request_headers for e in recording.exchanges)
    await client.aclose()
