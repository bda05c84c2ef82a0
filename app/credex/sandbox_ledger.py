"""The sandbox's in-memory credex-core state: members, accounts, sessions, credexes, money rules.

Every method is synchronous on purpose: the FastAPI sandbox runs on one event loop, so an operation that never
awaits is atomic with respect to other requests (no lock needed, no balance update split by an await).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from app.credex.sandbox_support import (
    TIER_DAILY_LIMIT_USD,
    USD_PER_UNIT,
    Clock,
    IdFactory,
    SandboxError,
    TokenFactory,
    quantize,
    utc_now,
)


class CredexStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"


@dataclass
class Member:
    member_id: str
    phone: str
    firstname: str
    lastname: str
    handle: str
    default_denom: str
    tier: int
    created_at: datetime

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Account:
    account_id: str
    name: str
    handle: str
    account_type: str
    default_denom: str
    owner_id: str
    created_at: datetime
    authorized: list[str]
    send_offers_to: str
    secured: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Credex:
    credex_id: str
    seq: int
    issuer_account_id: str
    receiver_account_id: str
    amount: Decimal
    denomination: str
    secured: bool
    credex_type: str
    created_at: datetime
    created_by: str
    due_date: date | None = None
    status: CredexStatus = CredexStatus.PENDING
    resolved_at: datetime | None = None


@dataclass
class Recurring:
    recurring_id: str
    source_account_id: str
    target_account_id: str
    template_type: str
    pay_frequency: int
    amount: Decimal
    denomination: str
    next_date: date
    member_tier: int | None
    status: str = "ACTIVE"
    total_executions: int = 0


@dataclass
class Session:
    member_id: str
    issued_at: datetime


class Ledger:
    """All sandbox state. Lookups raise SandboxError with credex-core's codes and messages."""

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        ids: IdFactory | None = None,
        tokens: TokenFactory | None = None,
        token_ttl: timedelta = timedelta(minutes=30),
        refresh_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.clock = clock
        self.new_id: IdFactory = ids or (lambda: str(uuid.uuid4()))
        self.new_token: TokenFactory = tokens or (lambda: secrets.token_urlsafe(32))
        self.token_ttl = token_ttl
        self.refresh_after = refresh_after
        self.members: dict[str, Member] = {}
        self.accounts: dict[str, Account] = {}
        self.credexes: dict[str, Credex] = {}
        self.recurring: dict[str, Recurring] = {}
        self.sessions: dict[str, Session] = {}
        self._by_phone: dict[str, str] = {}
        self._member_handles: dict[str, str] = {}
        self._account_handles: dict[str, str] = {}
        self._seq = 0

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.now().date()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- members, accounts, sessions ------------------------------------------------------------------------
    def add_member(self, phone: str, firstname: str, lastname: str, default_denom: str, tier: int = 1) -> Member:
        """Onboard: as in credex-core the member handle and the personal account handle are the phone number."""
        phone = phone.lstrip("+")
        if phone in self._by_phone:
            raise SandboxError(409, "Phone number already in use", "DUPLICATE_PHONE", field="phone")
        if phone in self._member_handles or phone in self._account_handles:
            raise SandboxError(409, "Member handle already in use", "DUPLICATE_HANDLE", field="phone")
        member = Member(self.new_id(), phone, firstname, lastname, phone, default_denom, tier, self.now())
        self.members[member.member_id] = member
        self._by_phone[phone] = member.member_id
        self._member_handles[phone] = member.member_id
        self.add_account(member, f"{member.name} Personal", phone, "PERSONAL", default_denom)
        return member

    def add_account(self, owner: Member, name: str, handle: str, account_type: str, denom: str) -> Account:
        if handle in self._account_handles:
            raise SandboxError(
                400, f"Account handle {handle} is already in use", "DUPLICATE_HANDLE", field="accountHandle"
            )
        account = Account(
            self.new_id(),
            name,
            handle,
            account_type,
            denom,
            owner.member_id,
            self.now(),
            [owner.member_id],
            owner.member_id,
        )
        self.accounts[account.account_id] = account
        self._account_handles[handle] = account.account_id
        return account

    def issue_token(self, member: Member) -> str:
        token = self.new_token()
        self.sessions[token] = Session(member.member_id, self.now())
        return token

    def authenticate(self, token: str | None) -> tuple[Member, str | None]:
        """The member behind a bearer token, plus a fresh token when this one is due for refresh."""
        if not token:
            raise SandboxError(401, "Authentication required", "UNAUTHORIZED")
        session = self.sessions.get(token)
        if session is None or self.now() - session.issued_at >= self.token_ttl:
            self.sessions.pop(token, None)
            raise SandboxError(401, "Authentication required: the token is invalid or expired", "UNAUTHORIZED")
        member = self.members[session.member_id]
        if self.now() - session.issued_at >= self.refresh_after:
            return member, self.issue_token(member)
        return member, None

    def member(self, member_id: str) -> Member:
        found = self.members.get(member_id)
        if found is None:
            raise SandboxError(404, "Member not found", "NOT_FOUND", field="memberID")
        return found

    def member_by_phone(self, phone: str) -> Member:
        member_id = self._by_phone.get(phone.lstrip("+"))
        if member_id is None:
            raise SandboxError(404, "Member not found", "NOT_FOUND", field="phone")
        return self.members[member_id]

    def member_by_handle(self, handle: str) -> Member:
        member_id = self._member_handles.get(handle)
        if member_id is None:
            raise SandboxError(404, "Member not found", "NOT_FOUND", field="memberHandle")
        return self.members[member_id]

    def account(self, account_id: str, field_name: str = "accountID", code: str = "ACCOUNT_NOT_FOUND") -> Account:
        found = self.accounts.get(account_id)
        if found is None:
            raise SandboxError(404, "Account not found", code, field=field_name)
        return found

    def account_by_handle(self, handle: str) -> Account:
        account_id = self._account_handles.get(handle)
        if account_id is None:
            raise SandboxError(
                404, f"No account found with handle {handle}", "ACCOUNT_NOT_FOUND", field="accountHandle"
            )
        return self.accounts[account_id]

    def accounts_for(self, member: Member) -> list[Account]:
        """Owned accounts first, then accounts the member is authorized on."""
        mine = [a for a in self.accounts.values() if member.member_id in a.authorized]
        return sorted(mine, key=lambda a: (a.owner_id != member.member_id, a.created_at))

    def owned_account(self, member: Member, account_id: str) -> Account:
        account = self.account(account_id)
        if account.owner_id != member.member_id:
            raise SandboxError(403, "Not authorized to modify account", "UNAUTHORIZED")
        return account

    # -- money ----------------------------------------------------------------------------------------------
    def reserved(self, account: Account, denom: str) -> Decimal:
        """Secured value promised in pending offers: it cannot be offered twice."""
        return sum(
            (
                c.amount
                for c in self.credexes.values()
                if c.issuer_account_id == account.account_id
                and c.secured
                and c.denomination == denom
                and c.status is CredexStatus.PENDING
            ),
            Decimal(0),
        )

    def available_secured(self, account: Account, denom: str) -> Decimal:
        return account.secured.get(denom, Decimal(0)) - self.reserved(account, denom)

    def remaining_usd(self, member: Member) -> Decimal | None:
        """Tier limit left today (pending and accepted offers count), None for unlimited tiers."""
        limit = TIER_DAILY_LIMIT_USD.get(member.tier)
        if limit is None:
            return None
        owned = {a.account_id for a in self.accounts.values() if a.owner_id == member.member_id}
        spent = sum(
            (
                c.amount * USD_PER_UNIT[c.denomination]
                for c in self.credexes.values()
                if c.issuer_account_id in owned
                and c.created_at.date() == self.today()
                and c.status in (CredexStatus.PENDING, CredexStatus.ACCEPTED)
            ),
            Decimal(0),
        )
        return max(quantize(limit - spent, "USD"), Decimal("0.00"))
