"""The credex sandbox driven through the real CredexClient: ledger behaviour, auth and the failure policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.credex import (
    CredexAuth,
    CredexClient,
    CredexInvalidRequest,
    CredexRejected,
    CredexUnauthorized,
    CredexUnavailable,
    CredexWriteUnconfirmed,
)
from app.credex.models import Denomination, Money
from app.credex.sandbox_ledger import CredexStatus
from tests.credex_support import (
    ALICE,
    BOB,
    CHIPO,
    BareTokenHeader,
    DropBearer,
    LoseResponse,
    SandboxEnv,
    Unreachable,
    logged_in,
)

USD = Denomination.USD


@pytest.fixture
def env() -> SandboxEnv:
    return SandboxEnv()


@pytest.fixture
async def client(env: SandboxEnv) -> AsyncIterator[CredexClient]:
    c = env.client()
    yield c
    await c.aclose()


async def account_id(client: CredexClient, auth: CredexAuth, handle: str) -> str:
    return (await client.get_account_by_handle(auth, handle)).details.account_id


async def secured(client: CredexClient, auth: CredexAuth, handle: str, denom: str = "USD") -> Decimal:
    balances = (await client.get_balances(auth, await account_id(client, auth, handle))).details.balances
    return next((m.amount for m in balances.secured_net_balances_by_denom if m.denomination == denom), Decimal(0))


async def offer(client: CredexClient, auth: CredexAuth, to: str, amount: str, *, issuer: str | None = None) -> str:
    response = await client.create_credex(
        auth,
        issuer_account_id=await account_id(client, auth, issuer or auth.phone),
        receiver_account_id=await account_id(client, auth, to),
        amount=Decimal(amount),
        denomination=USD,
        secured=True,
    )
    assert response.details.credex_id is not None
    return response.details.credex_id


async def test_login_of_a_demo_member_sets_the_token(env: SandboxEnv, client: CredexClient) -> None:
    auth = CredexAuth(phone=ALICE)
    response = await client.login(auth)
    assert auth.token and response.details.token == auth.token
    assert env.sandbox.ledger.sessions[auth.token].member_id == response.details.member_id
    with pytest.raises(CredexRejected) as refused:
        await client.login(CredexAuth(phone="263779999999"))
    assert (refused.value.status, refused.value.message) == (404, "Member not found")


async def test_onboarding_a_new_phone_then_login(client: CredexClient) -> None:
    auth = CredexAuth(phone="263771234567")
    onboarded = await client.onboard_member(auth, firstname="Tendai", lastname="Moyo")
    assert auth.token == onboarded.details.token
    assert onboarded.details.member_handle == "263771234567"
    again = await logged_in(client, "263771234567")
    dashboard = await client.get_member_dashboard(again)
    assert (dashboard.details.member_tier, dashboard.details.remaining_available_usd) == (1, Decimal("10.00"))
    [personal] = dashboard.dashboard.accounts
    assert (personal.account_handle, personal.account_type) == ("263771234567", "PERSONAL")
    assert personal.account_id == onboarded.details.default_account_id
    with pytest.raises(CredexRejected) as duplicate:
        await client.onboard_member(CredexAuth(phone="263771234567"), firstname="Tendai", lastname="Moyo")
    assert (duplicate.value.status, duplicate.value.code) == (409, "DUPLICATE_PHONE")


async def test_dashboard_shows_accounts_balances_and_pending_offers(client: CredexClient) -> None:
    dashboard = await client.get_member_dashboard(CredexAuth(phone=ALICE))  # no token yet: logs in first
    assert dashboard.details.member_tier == 3 and dashboard.details.remaining_available_usd is None
    personal, shop = dashboard.dashboard.accounts
    assert personal.balances.secured_net_balances_by_denom == [
        Money(amount=Decimal("488.00"), denomination="USD"),  # 500 - 6 x 5.00 + 6 x 3.00 of seeded history
        Money(amount=Decimal("2500.00"), denomination="ZWG"),
    ]
    assert [o.amount for o in personal.pending_offers.incoming] == [Decimal("15.00")]
    assert [o.amount for o in personal.pending_offers.outgoing] == [Decimal("25.00")]
    assert (shop.account_name, shop.account_type, shop.is_owned_account) == ("Alice's Shop", "BUSINESS", True)
    [unsecured] = shop.pending_offers.outgoing
    assert unsecured.secured is False and unsecured.due_date is not None


async def test_handle_lookups_known_unknown_and_malformed(env: SandboxEnv, client: CredexClient) -> None:
    auth = await logged_in(client, ALICE)
    bob = await client.get_member_by_handle(auth, BOB)
    assert (bob.details.member_name, bob.details.member_handle) == ("Demo Bob", BOB)
    shop = await client.get_account_by_handle(auth, " @Alices_Shop ")
    assert (shop.details.account_handle, shop.details.account_type) == ("alices_shop", "BUSINESS")
    with pytest.raises(CredexRejected) as unknown_member:
        await client.get_member_by_handle(auth, "nobody_here")
    with pytest.raises(CredexRejected) as unknown_account:
        await client.get_account_by_handle(auth, "nobody_here")
    assert (unknown_member.value.status, unknown_account.value.code) == (404, "ACCOUNT_NOT_FOUND")
    sent = sum(env.sandbox.requests.values())
    with pytest.raises(CredexInvalidRequest):
        await client.get_account_by_handle(auth, "a!")
    assert sum(env.sandbox.requests.values()) == sent  # refused before sending


async def test_secured_offer_then_accept_moves_the_balance(client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    before = (await secured(client, alice, ALICE), await secured(client, bob, BOB))
    credex_id = await offer(client, alice, BOB, "12.34")
    assert (await secured(client, alice, ALICE), await secured(client, bob, BOB)) == before  # pending moves nothing
    incoming = (await client.get_member_dashboard(bob)).dashboard.accounts[0].pending_offers.incoming
    assert credex_id in [o.credex_id for o in incoming]
    accepted = await client.accept_credex(bob, credex_id)
    assert (accepted.details.credex_id, accepted.details.amount) == (credex_id, Decimal("12.34"))
    assert await secured(client, alice, ALICE) == before[0] - Decimal("12.34")
    assert await secured(client, bob, BOB) == before[1] + Decimal("12.34")
    seen = await client.get_credex(bob, credex_id, await account_id(client, bob, BOB))
    assert (seen.details.transaction_type, seen.details.initial_amount) == ("CLEARED", Decimal("12.34"))


async def test_decline_and_cancel_leave_balances_alone(env: SandboxEnv, client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    [seeded] = (await client.get_member_dashboard(bob)).dashboard.accounts[0].pending_offers.incoming
    before = await secured(client, alice, ALICE)
    declined = await client.decline_credex(bob, seeded.credex_id)
    assert declined.details.credex_id == seeded.credex_id
    mine = await offer(client, alice, BOB, "3.00")
    cancelled = await client.cancel_credex(alice, mine)
    assert cancelled.details.credex_id == mine  # cancel's details have no credexID: taken from action.id
    statuses = {env.sandbox.ledger.credexes[c].status for c in (seeded.credex_id, mine)}
    assert statuses == {CredexStatus.DECLINED, CredexStatus.CANCELLED}
    assert await secured(client, alice, ALICE) == before
    assert (await client.get_member_dashboard(bob)).dashboard.accounts[0].pending_offers.incoming == []


async def test_answering_an_offer_that_is_not_pending(client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    declined, accepted = await offer(client, alice, BOB, "1.00"), await offer(client, alice, BOB, "2.00")
    await client.decline_credex(bob, declined)
    await client.accept_credex(bob, accepted)
    for call, credex_id, status, code in (
        (client.accept_credex, declined, 400, "INVALID_STATE"),
        (client.accept_credex, accepted, 409, "ALREADY_ACCEPTED"),
        (client.decline_credex, accepted, 409, "ALREADY_PROCESSED"),
    ):
        with pytest.raises(CredexRejected) as refused:
            await call(bob, credex_id)
        assert (refused.value.status, refused.value.code) == (status, code)
    with pytest.raises(CredexRejected) as not_issuer:
        await client.cancel_credex(bob, await offer(client, alice, BOB, "1.00"))
    assert not_issuer.value.status == 403


async def test_secured_offers_cannot_exceed_the_available_secured_balance(client: CredexClient) -> None:
    alice = await logged_in(client, ALICE)
    with pytest.raises(CredexRejected) as refused:  # 488.00 held, 25.00 promised to Bob: 463.00 available
        await offer(client, alice, CHIPO, "463.01")
    assert (refused.value.status, refused.value.code) == (400, "INSUFFICIENT_SECURED_BALANCE")
    assert "maximum securable USD balance is 463.00 USD" in refused.value.message
    await offer(client, alice, CHIPO, "400.00")
    with pytest.raises(CredexRejected):  # the pending 400.00 is reserved
        await offer(client, alice, CHIPO, "63.01")


async def test_invalid_amounts_due_dates_and_tier_limits(env: SandboxEnv, client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    for amount in ("0", "0.001"):
        with pytest.raises(CredexRejected) as bad:
            await offer(client, alice, BOB, amount)
        assert (bad.value.status, bad.value.code) == (400, "INVALID_AMOUNT")
    ids: dict[str, Any] = {
        "issuer_account_id": await account_id(client, alice, ALICE),
        "receiver_account_id": await account_id(client, alice, BOB),
    }
    today = env.clock().date()
    with pytest.raises(CredexInvalidRequest):
        await client.create_credex(alice, **ids, amount=Decimal("5"), denomination=USD, secured=False)
    with pytest.raises(CredexRejected) as too_late:
        await client.create_credex(
            alice, **ids, amount=Decimal("5"), denomination=USD, secured=False, due_date=today + timedelta(days=36)
        )
    assert too_late.value.code == "INVALID_DATE"
    unsecured = await client.create_credex(
        alice, **ids, amount=Decimal("5"), denomination=USD, secured=False, due_date=today + timedelta(days=35)
    )
    assert unsecured.details.due_date == today + timedelta(days=35)
    with pytest.raises(CredexRejected) as limit:  # Bob is tier 1 ($10/day) with 5.00 already offered today
        await offer(client, bob, ALICE, "5.01")
    assert (limit.value.status, limit.value.code) == (403, "INSUFFICIENT_TIER")


async def test_accept_credex_bulk_reports_each_offer(client: CredexClient) -> None:
    alice, chipo = await logged_in(client, ALICE), await logged_in(client, CHIPO)
    [seeded] = (await client.get_member_dashboard(alice)).dashboard.accounts[0].pending_offers.incoming
    fresh = await offer(client, chipo, ALICE, "10.00")
    done = await offer(client, chipo, ALICE, "1.00")
    await client.accept_credex(alice, done)
    before = await secured(client, alice, ALICE)
    unknown = "00000000-0000-0000-0000-00000000ffff"
    bulk = await client.accept_credex_bulk(alice, [seeded.credex_id, fresh, done, unknown])
    summary = bulk.details.summary
    assert (summary.accepted, summary.already_accepted) == ([seeded.credex_id, fresh], [done])
    assert [(f.credex_id, f.error) for f in summary.failed] == [(unknown, "Credex not found")]
    assert await secured(client, alice, ALICE) == before + Decimal("25.00")


async def test_ledger_pages_newest_first_without_overlap(client: CredexClient) -> None:
    alice = await logged_in(client, ALICE)
    personal = await account_id(client, alice, ALICE)
    pages = []
    for start in (0, 5, 10):
        page = await client.get_ledger(alice, personal, start_row=start, num_rows=5)
        pages.append(([e.credex_id for e in page.details.ledger], page.dashboard.pagination.has_more))
    assert [(len(ids), more) for ids, more in pages] == [(5, True), (5, True), (2, False)]
    every = [credex_id for ids, _ in pages for credex_id in ids]
    assert len(set(every)) == 12
    newest = await offer(client, await logged_in(client, CHIPO), ALICE, "4.00")
    await client.accept_credex(alice, newest)
    first = (await client.get_ledger(alice, personal, num_rows=1)).details.ledger[0]
    assert (first.credex_id, first.amount, first.denomination) == (newest, Decimal("4.00"), "USD")


async def test_get_credex_from_each_side(client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    credex_id = await offer(client, alice, BOB, "7.25")
    seen = await client.get_credex(alice, credex_id, await account_id(client, alice, ALICE))
    assert (seen.details.transaction_type, seen.details.initial_amount) == ("OFFERS", Decimal("7.25"))
    assert (seen.details.counterparty_account_name, seen.details.formatted_initial_amount) == (
        "Demo Bob Personal",
        "-7.25 USD",
    )
    with pytest.raises(CredexRejected) as not_party:
        await client.get_credex(bob, credex_id, await account_id(client, bob, "alices_shop"))
    assert not_party.value.status == 403


async def test_tier_upgrade_subscription(env: SandboxEnv, client: CredexClient) -> None:
    bob = await logged_in(client, BOB)
    before = await secured(client, bob, BOB)
    upgrade = await client.subscribe_member_tier(bob, await account_id(client, bob, BOB), start_date=env.clock().date())
    assert upgrade.details.next_date == env.clock().date() + timedelta(days=28)
    assert upgrade.details.schedule_info is not None and upgrade.details.schedule_info.member_tier == 3
    dashboard = await client.get_member_dashboard(bob)
    assert (dashboard.details.member_tier, dashboard.details.remaining_available_usd) == (3, None)
    assert await secured(client, bob, BOB) == before - Decimal("1.00")
    with pytest.raises(CredexRejected) as again:
        await client.subscribe_member_tier(bob, await account_id(client, bob, BOB), start_date=env.clock().date())
    assert again.value.code == "ALREADY_SUBSCRIBED"


async def test_authorize_send_offers_to_and_unauthorize_on_a_business_account(client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    shop = await account_id(client, alice, "alices_shop")
    bob_id = (await client.get_member_by_handle(alice, BOB)).details.member_id
    with pytest.raises(CredexRejected) as not_yet:
        await client.update_send_offers_to(alice, shop, bob_id)
    assert (not_yet.value.status, not_yet.value.code) == (400, "UNAUTHORIZED_MEMBER")
    authorized = await client.authorize_for_account(alice, shop, BOB)
    assert authorized.details.member_id_authorized == bob_id
    bobs_view = {a.account_handle: a for a in (await client.get_member_dashboard(bob)).dashboard.accounts}
    assert bobs_view["alices_shop"].is_owned_account is False
    await offer(client, bob, CHIPO, "20.00", issuer="alices_shop")  # the shop's tier (Alice's) applies, not Bob's
    updated = await client.update_send_offers_to(alice, shop, bob_id)
    assert updated.details.send_offers_to.member_id == bob_id
    with pytest.raises(CredexRejected) as not_owner:
        await client.authorize_for_account(bob, shop, CHIPO)
    assert not_owner.value.status == 403
    await client.unauthorize_for_account(alice, shop, bob_id)
    shop_view = next(a for a in (await client.get_member_dashboard(alice)).dashboard.accounts if a.account_id == shop)
    assert shop_view.send_offers_to is not None and shop_view.send_offers_to.lastname == "Alice"
    assert "alices_shop" not in {a.account_handle for a in (await client.get_member_dashboard(bob)).dashboard.accounts}
    with pytest.raises(CredexRejected) as revoked:
        await offer(client, bob, CHIPO, "1.00", issuer="alices_shop")
    assert revoked.value.status == 403


async def test_create_account_needs_the_entrepreneur_tier(client: CredexClient) -> None:
    alice, bob = await logged_in(client, ALICE), await logged_in(client, BOB)
    created = await client.create_account(
        alice, account_name="Alice Catering", account_handle="alice_catering", default_denom=USD
    )
    assert (await account_id(client, alice, "alice_catering")) == created.details.account_id
    handles = [a.account_handle for a in (await client.get_member_dashboard(alice)).dashboard.accounts]
    assert handles == [ALICE, "alices_shop", "alice_catering"]
    with pytest.raises(CredexRejected) as taken:
        await client.create_account(alice, account_name="Again", account_handle="alice_catering", default_denom=USD)
    assert taken.value.status == 400
    with pytest.raises(CredexRejected) as tier:
        await client.create_account(bob, account_name="Bob Barbers", account_handle="bob_barbers", default_denom=USD)
    assert (tier.value.status, tier.value.code) == (403, "TIER_LIMIT_EXCEEDED")


async def test_a_401_on_a_read_logs_in_again_once(env: SandboxEnv, client: CredexClient) -> None:
    alice = await logged_in(client, ALICE)
    stale = alice.token
    env.clock.advance(timedelta(minutes=31))  # the token expired
    personal = env.sandbox.ledger.account_by_handle(ALICE).account_id
    balances = await client.get_balances(alice, personal)
    assert balances.details.account_id == personal
    assert (env.sandbox.requests["/getBalances"], env.sandbox.requests["/login"]) == (2, 2)
    assert alice.token not in (None, stale)


async def test_a_read_that_stays_401_is_retried_only_once(env: SandboxEnv) -> None:
    client = env.client(lambda t: DropBearer(t, "/getBalances"))
    alice = await logged_in(client, ALICE)
    with pytest.raises(CredexUnauthorized):
        await client.get_balances(alice, env.sandbox.ledger.account_by_handle(ALICE).account_id)
    assert (env.sandbox.requests["/getBalances"], env.sandbox.requests["/login"]) == (2, 2)
    await client.aclose()


async def test_a_401_on_a_write_is_not_retried(env: SandboxEnv, client: CredexClient) -> None:
    alice = await logged_in(client, ALICE)
    ids: dict[str, Any] = {
        "issuer_account_id": await account_id(client, alice, ALICE),
        "receiver_account_id": await account_id(client, alice, BOB),
    }
    offers = len(env.sandbox.ledger.credexes)
    env.clock.advance(timedelta(minutes=31))
    with pytest.raises(CredexUnauthorized):
        await client.create_credex(alice, **ids, amount=Decimal("2.00"), denomination=USD, secured=True)
    assert (env.sandbox.requests["/createCredex"], env.sandbox.requests["/login"]) == (1, 1)
    assert alice.token is None and len(env.sandbox.ledger.credexes) == offers
    await client.create_credex(alice, **ids, amount=Decimal("2.00"), denomination=USD, secured=True)
    assert (env.sandbox.requests["/createCredex"], env.sandbox.requests["/login"]) == (2, 2)  # fresh login first


async def test_a_lost_create_credex_response_is_unconfirmed_and_applied_once(env: SandboxEnv) -> None:
    client = env.client(lambda t: LoseResponse(t, "/createCredex"))
    alice = await logged_in(client, ALICE)
    with pytest.raises(CredexWriteUnconfirmed):
        await offer(client, alice, BOB, "7.77")
    assert env.sandbox.requests["/createCredex"] == 1
    lost = [c for c in env.sandbox.ledger.credexes.values() if c.amount == Decimal("7.77")]
    assert len(lost) == 1 and lost[0].status is CredexStatus.PENDING
    await client.aclose()


async def test_read_timeouts_and_unreachable_writes_are_unavailable(env: SandboxEnv) -> None:
    client = env.client(lambda t: LoseResponse(t, "/getBalances"), lambda t: Unreachable(t, "/acceptCredex"))
    alice = await logged_in(client, ALICE)
    with pytest.raises(CredexUnavailable):
        await client.get_balances(alice, env.sandbox.ledger.account_by_handle(ALICE).account_id)
    pending = next(c for c in env.sandbox.ledger.credexes.values() if c.status is CredexStatus.PENDING)
    with pytest.raises(CredexUnavailable):  # the connection never opened: nothing was sent
        await client.accept_credex(alice, pending.credex_id)
    assert env.sandbox.requests["/getBalances"] == 1 and env.sandbox.requests["/acceptCredex"] == 0
    await client.aclose()


@pytest.mark.parametrize("bare", [False, True])
async def test_a_refreshed_token_in_the_authorization_header_lands_in_auth(env: SandboxEnv, bare: bool) -> None:
    client = env.client(BareTokenHeader) if bare else env.client()
    alice = await logged_in(client, ALICE)
    first = alice.token
    await client.get_member_dashboard(alice)
    assert alice.token == first  # young token: no refresh
    env.clock.advance(timedelta(minutes=11))
    await client.get_member_dashboard(alice)
    assert alice.token not in (None, first) and alice.token in env.sandbox.ledger.sessions
    await client.get_member_dashboard(alice)
    assert env.sandbox.requests["/login"] == 1
    await client.aclose()
