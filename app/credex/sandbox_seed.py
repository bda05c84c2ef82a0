"""The sandbox's starting data: demo members with secured balances, some history, and pending offers.

`DEMO_SEED` is the single source for the README's table of demo logins. Seeding goes through the same ledger
operations as requests do, so the starting state obeys the same rules (limits, reservations, handles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Final

from app.credex.models import CreateCredexRequest, Denomination
from app.credex.sandbox_ledger import Ledger
from app.credex.sandbox_offers import OPS_ACCOUNT_HANDLE, accept_credex, create_credex


@dataclass(frozen=True)
class SeedAccount:
    name: str
    handle: str
    account_type: str = "BUSINESS"
    secured: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class SeedMember:
    phone: str
    firstname: str
    lastname: str
    tier: int
    secured: tuple[tuple[str, Decimal], ...] = ()
    extra_accounts: tuple[SeedAccount, ...] = ()
    default_denom: str = "USD"


@dataclass(frozen=True)
class SeedCredex:
    """An offer between account handles; `accepted` ones form the ledger history, the rest stay pending."""

    issuer: str
    receiver: str
    amount: Decimal
    denomination: str = "USD"
    secured: bool = True
    due_in_days: int | None = None
    accepted: bool = False


@dataclass(frozen=True)
class SandboxSeed:
    members: tuple[SeedMember, ...]
    credexes: tuple[SeedCredex, ...]


ALICE, BOB, CHIPO = "263770000001", "263770000002", "263770000003"
OPS_PHONE = "263700000000"

DEMO_SEED: Final = SandboxSeed(
    members=(
        SeedMember(
            OPS_PHONE,
            "Great",
            "Sun Ops",
            3,
            extra_accounts=(SeedAccount("Great Sun Operations", OPS_ACCOUNT_HANDLE, "OPERATIONS"),),
        ),
        SeedMember(
            ALICE,
            "Demo",
            "Alice",
            3,
            (("USD", Decimal("500.00")), ("ZWG", Decimal("2500.00"))),
            (SeedAccount("Alice's Shop", "alices_shop", secured=(("USD", Decimal("250.00")),)),),
        ),
        SeedMember(BOB, "Demo", "Bob", 1, (("USD", Decimal("40.00")),)),
        SeedMember(CHIPO, "Demo", "Chipo", 2, (("USD", Decimal("200.00")), ("CAD", Decimal("50.00")))),
    ),
    credexes=(
        *(SeedCredex(ALICE, CHIPO, Decimal("5.00"), accepted=True) for _ in range(6)),
        *(SeedCredex(CHIPO, ALICE, Decimal("3.00"), accepted=True) for _ in range(6)),
        SeedCredex(CHIPO, BOB, Decimal("20.00"), secured=False, due_in_days=21, accepted=True),
        SeedCredex(ALICE, BOB, Decimal("25.00")),
        SeedCredex(CHIPO, ALICE, Decimal("15.00")),
        SeedCredex(BOB, CHIPO, Decimal("5.00")),
        SeedCredex("alices_shop", CHIPO, Decimal("30.00"), secured=False, due_in_days=14),
    ),
)
"""Demo logins (phone = member handle = personal account handle):
263770000001 Demo Alice, tier 3: personal USD 500.00 + ZWG 2500.00 secured, and BUSINESS "Alice's Shop"
(alices_shop) with USD 250.00; 263770000002 Demo Bob, tier 1 ($10/day): USD 40.00; 263770000003 Demo Chipo,
tier 2 ($100/day): USD 200.00 + CAD 50.00. History: 6 x 5.00 USD Alice->Chipo, 6 x 3.00 USD Chipo->Alice and an
unsecured 20.00 USD Chipo->Bob, all accepted. Pending: Alice->Bob 25.00 secured, Chipo->Alice 15.00 secured,
Bob->Chipo 5.00 secured, Alice's Shop->Chipo 30.00 unsecured (due in 14 days). 263700000000 owns greatsun_ops,
where tier subscriptions are paid."""


def seed_ledger(ledger: Ledger, seed: SandboxSeed = DEMO_SEED) -> None:
    for spec in seed.members:
        member = ledger.add_member(spec.phone, spec.firstname, spec.lastname, spec.default_denom, spec.tier)
        personal = ledger.account_by_handle(member.handle)
        personal.secured.update(spec.secured)
        for extra in spec.extra_accounts:
            account = ledger.add_account(member, extra.name, extra.handle, extra.account_type, spec.default_denom)
            account.secured.update(extra.secured)
    for offer in seed.credexes:
        issuer = ledger.account_by_handle(offer.issuer)
        receiver = ledger.account_by_handle(offer.receiver)
        due = ledger.today() + timedelta(days=offer.due_in_days) if offer.due_in_days is not None else None
        request = CreateCredexRequest(
            issuer_account_id=issuer.account_id,
            receiver_account_id=receiver.account_id,
            denomination=Denomination(offer.denomination),
            initial_amount=offer.amount,
            secured_credex=offer.secured,
            due_date=due,
        )
        credex = create_credex(ledger, ledger.members[issuer.owner_id], request)
        if offer.accepted:
            accept_credex(ledger, ledger.members[receiver.owner_id], credex.credex_id)
