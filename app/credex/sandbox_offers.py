"""Sandbox operations that move value or change offers: create/accept/decline/cancel, bulk accept, ledger pages,
and the tier subscription. Synchronous by design (see sandbox_ledger): each one is atomic on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from app.credex.models import CreateCredexRequest, CreateRecurringRequest, CredexType, OffersOrRequests, TemplateType
from app.credex.sandbox_ledger import Account, Credex, CredexStatus, Ledger, Member, Recurring
from app.credex.sandbox_support import (
    ENTREPRENEUR_TIER,
    MAX_DUE_DAYS,
    PRECISION,
    USD_PER_UNIT,
    SandboxError,
    money,
    quantize,
)

OPS_ACCOUNT_HANDLE = "greatsun_ops"
"""Where tier subscriptions are paid when createRecurring names no targetAccountID."""
SUBSCRIPTION_DAYS = 28


def check_amount(amount: Decimal, denom: str, field: str) -> None:
    if amount <= 0:
        raise SandboxError(400, "Amount must be greater than zero", "INVALID_AMOUNT", field=field)
    if amount != quantize(amount, denom):
        raise SandboxError(
            400, f"{denom} amounts take at most {PRECISION[denom]} decimal places", "INVALID_AMOUNT", field=field
        )
    if amount >= Decimal("1e12"):
        raise SandboxError(400, "Amount is too large", "INVALID_AMOUNT", field=field)


def _create_failed(message: str, code: str, field: str | None = None) -> SandboxError:
    return SandboxError(400, message, code, field=field, action_type="CREDEX_CREATE_FAILED")


def _move_secured(ledger: Ledger, credex: Credex) -> None:
    issuer = ledger.accounts[credex.issuer_account_id]
    receiver = ledger.accounts[credex.receiver_account_id]
    denom = credex.denomination
    if issuer.secured.get(denom, Decimal(0)) < credex.amount:
        raise _create_failed(
            "The issuer no longer has the secured balance for this credex", "INSUFFICIENT_SECURED_BALANCE"
        )
    issuer.secured[denom] = issuer.secured.get(denom, Decimal(0)) - credex.amount
    receiver.secured[denom] = receiver.secured.get(denom, Decimal(0)) + credex.amount


def create_credex(ledger: Ledger, member: Member, req: CreateCredexRequest) -> Credex:
    issuer = ledger.account(req.issuer_account_id, "issuerAccountID", code="NOT_FOUND")
    receiver = ledger.account(req.receiver_account_id, "receiverAccountID", code="NOT_FOUND")
    if member.member_id not in issuer.authorized:
        raise SandboxError(403, "Not authorized to issue credex from this account", "FORBIDDEN")
    if issuer is receiver:
        raise SandboxError(
            400, "Issuer and receiver cannot be the same account", "VALIDATION_ERROR", field="receiverAccountID"
        )
    if req.offers_or_requests is not OffersOrRequests.OFFERS:
        raise _create_failed("The sandbox accepts OFFERS only", "VALIDATION_ERROR", "OFFERSorREQUESTS")
    if req.credex_type not in (CredexType.PURCHASE, CredexType.GIFT):
        raise _create_failed(f"credexType {req.credex_type} is reserved for the DCO", "VALIDATION_ERROR", "credexType")
    denom, amount = req.denomination.value, req.initial_amount
    check_amount(amount, denom, "InitialAmount")
    if req.secured_credex and req.due_date is not None:
        raise SandboxError(400, "Due date is not allowed for secured credex", "INVALID_DATE", field="dueDate")
    if not req.secured_credex:
        if req.due_date is None:
            raise SandboxError(400, "An unsecured credex needs a due date", "INVALID_DATE", field="dueDate")
        if not ledger.today() < req.due_date <= ledger.today() + timedelta(days=MAX_DUE_DAYS):
            raise SandboxError(
                400, "Due date must be in the future and at most 5 weeks away", "INVALID_DATE", field="dueDate"
            )
    remaining = ledger.remaining_usd(ledger.member(issuer.owner_id))
    if remaining is not None and amount * USD_PER_UNIT[denom] > remaining:
        raise SandboxError(
            403,
            f"You are only able to issue {remaining:f} USD until tomorrow. Limits renew at midnight UTC.",
            "INSUFFICIENT_TIER",
            field="securedCredex",
        )
    if req.secured_credex:
        available = ledger.available_secured(issuer, denom)
        if amount > available:
            raise _create_failed(
                f"Your secured credex for {money(amount, denom)} cannot be issued because your maximum securable "
                f"{denom} balance is {money(max(available, Decimal(0)), denom)}",
                "INSUFFICIENT_SECURED_BALANCE",
                "InitialAmount",
            )
    credex = Credex(
        ledger.new_id(),
        ledger.next_seq(),
        issuer.account_id,
        receiver.account_id,
        amount,
        denom,
        req.secured_credex,
        req.credex_type.value,
        ledger.now(),
        member.member_id,
        req.due_date,
    )
    ledger.credexes[credex.credex_id] = credex
    return credex


def _credex(ledger: Ledger, credex_id: str) -> Credex:
    credex = ledger.credexes.get(credex_id)
    if credex is None:
        raise SandboxError(404, "Credex not found", "NOT_FOUND", field="credexID")
    return credex


def _require_pending(credex: Credex, verb: str) -> None:
    if credex.status is CredexStatus.PENDING:
        return
    if verb != "accept":
        raise SandboxError(409, "Credex has already been processed", "ALREADY_PROCESSED")
    if credex.status is CredexStatus.ACCEPTED:
        raise SandboxError(409, "Credex has already been accepted", "ALREADY_ACCEPTED")
    raise SandboxError(
        400, f"Cannot accept Credex: invalid state (it was {credex.status.lower()})", "INVALID_STATE", field="credexID"
    )


def _party(ledger: Ledger, member: Member, account_id: str, verb: str) -> None:
    if member.member_id not in ledger.accounts[account_id].authorized:
        raise SandboxError(403, f"Not authorized to {verb} this Credex", "FORBIDDEN")


def accept_credex(ledger: Ledger, member: Member, credex_id: str) -> Credex:
    credex = _credex(ledger, credex_id)
    _party(ledger, member, credex.receiver_account_id, "accept")
    _require_pending(credex, "accept")
    if credex.secured:
        _move_secured(ledger, credex)
    credex.status, credex.resolved_at = CredexStatus.ACCEPTED, ledger.now()
    return credex


def decline_credex(ledger: Ledger, member: Member, credex_id: str) -> Credex:
    credex = _credex(ledger, credex_id)
    _party(ledger, member, credex.receiver_account_id, "decline")
    _require_pending(credex, "decline")
    credex.status, credex.resolved_at = CredexStatus.DECLINED, ledger.now()
    return credex


def cancel_credex(ledger: Ledger, member: Member, credex_id: str) -> Credex:
    credex = _credex(ledger, credex_id)
    _party(ledger, member, credex.issuer_account_id, "cancel")
    _require_pending(credex, "cancel")
    credex.status, credex.resolved_at = CredexStatus.CANCELLED, ledger.now()
    return credex


@dataclass
class BulkResult:
    accepted: list[str]
    already_accepted: list[str]
    failed: list[tuple[str, str]]


def accept_credex_bulk(ledger: Ledger, member: Member, credex_ids: list[str]) -> BulkResult:
    """Each id on its own: one failure does not undo the others (credex-core's partial-success answer)."""
    result = BulkResult([], [], [])
    for credex_id in dict.fromkeys(credex_ids):
        try:
            credex = _credex(ledger, credex_id)
            _party(ledger, member, credex.receiver_account_id, "accept")
            if credex.status is CredexStatus.ACCEPTED:
                result.already_accepted.append(credex_id)
                continue
            accept_credex(ledger, member, credex_id)
            result.accepted.append(credex_id)
        except SandboxError as err:
            result.failed.append((credex_id, err.message))
    return result


def viewable_credex(ledger: Ledger, member: Member, credex_id: str, account_id: str) -> tuple[Credex, Account]:
    credex = _credex(ledger, credex_id)
    account = ledger.accounts.get(account_id)
    if (
        account is None
        or member.member_id not in account.authorized
        or account_id not in (credex.issuer_account_id, credex.receiver_account_id)
    ):
        raise SandboxError(403, "Not authorized to view this Credex", "FORBIDDEN")
    return credex, account


def settled(ledger: Ledger, account: Account) -> list[Credex]:
    """Accepted credexes of the account, newest first."""
    return sorted(
        (
            c
            for c in ledger.credexes.values()
            if c.status is CredexStatus.ACCEPTED and account.account_id in (c.issuer_account_id, c.receiver_account_id)
        ),
        key=lambda c: (c.resolved_at or c.created_at, c.seq),
        reverse=True,
    )


def ledger_page(
    ledger: Ledger, member: Member, account_id: str, start_row: int, num_rows: int
) -> tuple[Account, list[Credex], bool]:
    """Settled credexes sliced as [startRow, startRow + numRows); getLedger has no 404, so unknown is 403 too."""
    account = ledger.accounts.get(account_id)
    if account is None or member.member_id not in account.authorized:
        raise SandboxError(403, "Unauthorized access to account", "UNAUTHORIZED_ACCESS", field="accountID")
    rows = settled(ledger, account)
    return account, rows[start_row : start_row + num_rows], start_row + num_rows < len(rows)


def create_subscription(ledger: Ledger, member: Member, req: CreateRecurringRequest) -> Recurring:
    """MEMBERTIER_SUBSCRIPTION: starting today pays the first period now (auto-accepted) and upgrades the tier."""
    source = ledger.account(req.source_account_id, "sourceAccountID")
    if source.owner_id != member.member_id:
        raise SandboxError(403, "Not authorized to create recurring transaction", "UNAUTHORIZED")
    if req.template_type is not TemplateType.MEMBERTIER_SUBSCRIPTION:
        raise SandboxError(
            400, "The sandbox supports MEMBERTIER_SUBSCRIPTION templates only", "INVALID_TEMPLATE", field="templateType"
        )
    if req.member_tier != ENTREPRENEUR_TIER:
        raise SandboxError(400, "memberTier 3 is required for a tier subscription", "INVALID_TIER", field="memberTier")
    if req.pay_frequency != SUBSCRIPTION_DAYS:
        raise SandboxError(400, "Tier subscriptions are paid every 28 days", "INVALID_FREQUENCY", field="payFrequency")
    if (req.denomination or "USD") != "USD" or req.secured_credex is False:
        raise SandboxError(
            400, "Tier subscriptions are secured USD credex", "INVALID_DENOMINATION", field="denomination"
        )
    amount = req.amount if req.amount is not None else Decimal("1.00")
    check_amount(amount, "USD", "amount")
    if member.tier >= ENTREPRENEUR_TIER:
        raise SandboxError(400, "You are already on the Entrepreneur tier or above", "ALREADY_SUBSCRIBED")
    if req.start_date < ledger.today():
        raise SandboxError(400, "Start date cannot be in the past", "INVALID_START_DATE", field="startDate")
    target = (
        ledger.account(req.target_account_id, "targetAccountID")
        if req.target_account_id
        else ledger.account_by_handle(OPS_ACCOUNT_HANDLE)
    )
    recurring = Recurring(
        ledger.new_id(),
        source.account_id,
        target.account_id,
        req.template_type.value,
        req.pay_frequency,
        amount,
        "USD",
        req.start_date,
        ENTREPRENEUR_TIER,
    )
    if req.start_date == ledger.today():
        if ledger.available_secured(source, "USD") < amount:
            raise SandboxError(
                400,
                f"Your secured USD balance cannot cover the {money(amount, 'USD')} subscription",
                "INSUFFICIENT_SECURED_BALANCE",
                field="amount",
            )
        payment = Credex(
            ledger.new_id(),
            ledger.next_seq(),
            source.account_id,
            target.account_id,
            amount,
            "USD",
            True,
            "PURCHASE",
            ledger.now(),
            member.member_id,
        )
        ledger.credexes[payment.credex_id] = payment
        _move_secured(ledger, payment)
        payment.status, payment.resolved_at = CredexStatus.ACCEPTED, ledger.now()
        member.tier = ENTREPRENEUR_TIER
        recurring.total_executions = 1
        recurring.next_date = req.start_date + timedelta(days=SUBSCRIPTION_DAYS)
    ledger.recurring[recurring.recurring_id] = recurring
    return recurring
