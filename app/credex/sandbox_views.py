"""JSON shapes of the sandbox's answers, following the contract (amount strings like '10.00', money strings like
'10.00 USD', exact Decimal numbers where the contract says number).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.credex.sandbox_ledger import Account, Credex, CredexStatus, Ledger, Member, Recurring
from app.credex.sandbox_offers import settled
from app.credex.sandbox_support import SandboxError, convert, money, quantize

Json = dict[str, Any]
RECENT_ACTIVITY = 5


@dataclass
class Reply:
    """What a handler answers; the app wraps it in the credex-core envelope."""

    message: str
    action_type: str
    action_id: str | None
    details: Json
    dashboard: Json | None
    actor: str | None = None
    status: int = 200


Handler = Callable[[Ledger, Member | None, Any], Reply]


def signed_in(member: Member | None) -> Member:
    if member is None:  # the app authenticates every protected route before calling its handler
        raise SandboxError(401, "Authentication required", "NO_AUTH")
    return member


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def envelope(
    ledger: Ledger,
    message: str,
    action_type: str,
    action_id: str | None,
    actor: str,
    details: Json,
    dashboard: Json | None,
) -> Json:
    action = {
        "id": action_id,
        "type": action_type,
        "timestamp": timestamp(ledger.now()),
        "actor": actor,
        "details": details,
    }
    return {"message": message, "data": {"action": action, "dashboard": dashboard}}


def error_envelope(ledger: Ledger, err: SandboxError, code: str, actor: str, resource: str | None) -> Json:
    """action.id is the resource the request named (a credex or account id) when it was valid, else left out."""
    details: Json = {"code": code, "reason": err.message}
    if err.field:
        details["field"] = err.field
    body = envelope(ledger, err.message, err.action_type, resource, actor, details, {})
    if resource is None:
        del body["data"]["action"]["id"]
    return body


def member_ref(member: Member) -> Json:
    return {"memberID": member.member_id, "firstname": member.firstname, "lastname": member.lastname}


def amount_text(amount: Decimal, denom: str) -> str:
    return f"{quantize(amount, denom):f}"


def balances(ledger: Ledger, account: Account) -> Json:
    """securedNetBalancesByDenom, unsecured payables/receivables and net assets in the default denomination."""
    denom = account.default_denom
    secured = [money(v, d) for d, v in sorted(account.secured.items()) if v != 0] or [money(Decimal(0), denom)]
    payables = receivables = Decimal(0)
    for c in ledger.credexes.values():
        if c.status is CredexStatus.ACCEPTED and not c.secured:
            if c.issuer_account_id == account.account_id:
                payables += convert(c.amount, c.denomination, denom)
            elif c.receiver_account_id == account.account_id:
                receivables += convert(c.amount, c.denomination, denom)
    secured_total = sum((convert(v, d, denom) for d, v in account.secured.items()), Decimal(0))
    return {
        "securedNetBalancesByDenom": secured,
        "unsecuredBalancesInDefaultDenom": {
            "totalPayables": money(payables, denom),
            "totalReceivables": money(receivables, denom),
            "netPayRec": money(receivables - payables, denom),
        },
        "netCredexAssetsInDefaultDenom": money(secured_total + receivables - payables, denom),
    }


def _counterparty(ledger: Ledger, credex: Credex, account_id: str) -> Account:
    other = credex.receiver_account_id if credex.issuer_account_id == account_id else credex.issuer_account_id
    return ledger.accounts[other]


def _signed(credex: Credex, account_id: str) -> Decimal:
    return -credex.amount if credex.issuer_account_id == account_id else credex.amount


def offer(ledger: Ledger, credex: Credex, account_id: str) -> Json:
    other = _counterparty(ledger, credex, account_id)
    view: Json = {
        "credexID": credex.credex_id,
        "amount": amount_text(credex.amount, credex.denomination),
        "denomination": credex.denomination,
        "formattedInitialAmount": money(_signed(credex, account_id), credex.denomination),
        "counterpartyAccountName": other.name,
        "counterpartyAccountHandle": other.handle,
        "secured": credex.secured,
        "createdAt": timestamp(credex.created_at),
    }
    if credex.due_date is not None:
        view["dueDate"] = credex.due_date.isoformat()
    return view


def ledger_entry(ledger: Ledger, credex: Credex, account_id: str) -> Json:
    other = _counterparty(ledger, credex, account_id)
    outgoing = credex.issuer_account_id == account_id
    kind = "Secured" if credex.secured else "Unsecured"
    return {
        "credexID": credex.credex_id,
        "timestamp": timestamp(credex.resolved_at or credex.created_at),
        "type": credex.credex_type,
        "amount": amount_text(_signed(credex, account_id), credex.denomination),
        "denomination": credex.denomination,
        "description": f"{kind} credex {'to' if outgoing else 'from'} {other.name}",
        "counterpartyAccountName": other.name,
        "formattedAmount": money(_signed(credex, account_id), credex.denomination),
    }


def account_view(ledger: Ledger, viewer: Member, account: Account) -> Json:
    pending = [c for c in ledger.credexes.values() if c.status is CredexStatus.PENDING]
    incoming = [offer(ledger, c, account.account_id) for c in pending if c.receiver_account_id == account.account_id]
    outgoing = [offer(ledger, c, account.account_id) for c in pending if c.issuer_account_id == account.account_id]
    return {
        "accountID": account.account_id,
        "accountName": account.name,
        "accountHandle": account.handle,
        "accountType": account.account_type,
        "defaultDenom": account.default_denom,
        "isOwnedAccount": account.owner_id == viewer.member_id,
        "sendOffersTo": member_ref(ledger.members[account.send_offers_to]),
        "balances": balances(ledger, account),
        "pendingOffers": {"pendingInData": incoming, "pendingOutData": outgoing},
        "recentActivity": [ledger_entry(ledger, c, account.account_id) for c in settled(ledger, account)][
            :RECENT_ACTIVITY
        ],
    }


def member_dashboard(ledger: Ledger, member: Member) -> Json:
    """memberTier, remainingAvailableUSD (left out for unlimited tiers) and every account the member can act on."""
    dashboard: Json = {"memberTier": member.tier}
    remaining = ledger.remaining_usd(member)
    if remaining is not None:
        dashboard["remainingAvailableUSD"] = remaining
    dashboard["accounts"] = [account_view(ledger, member, a) for a in ledger.accounts_for(member)]
    return dashboard


def member_details(ledger: Ledger, member: Member) -> Json:
    details: Json = {
        "memberID": member.member_id,
        "firstname": member.firstname,
        "lastname": member.lastname,
        "memberHandle": member.handle,
        "defaultDenom": member.default_denom,
        "memberTier": member.tier,
    }
    remaining = ledger.remaining_usd(member)
    if remaining is not None:
        details["remainingAvailableUSD"] = remaining
    return details


def transaction_type(credex: Credex) -> str:
    if credex.status is CredexStatus.PENDING:
        return "OFFERS"
    if credex.status is CredexStatus.ACCEPTED:
        return "CLEARED" if credex.secured else "OWES"
    return credex.status.value


def credex_details(ledger: Ledger, credex: Credex, account_id: str) -> Json:
    other = _counterparty(ledger, credex, account_id)
    details: Json = {
        "transactionType": transaction_type(credex),
        "InitialAmount": quantize(credex.amount, credex.denomination),
        "securedCredex": credex.secured,
        "counterpartyAccountName": other.name,
        "credexID": credex.credex_id,
        "denomination": credex.denomination,
        "formattedInitialAmount": money(_signed(credex, account_id), credex.denomination),
        "counterpartyAccountID": other.account_id,
        "createdAt": timestamp(credex.created_at),
    }
    if credex.due_date is not None:
        details["dueDate"] = credex.due_date.isoformat()
    return details


def recurring_details(recurring: Recurring) -> Json:
    amount = amount_text(recurring.amount, recurring.denomination)
    return {
        "recurringID": recurring.recurring_id,
        "amount": amount,
        "denomination": recurring.denomination,
        "payFrequency": recurring.pay_frequency,
        "nextDate": recurring.next_date.isoformat(),
        "status": recurring.status,
        "scheduleInfo": {
            "payFrequency": recurring.pay_frequency,
            "nextRunDate": recurring.next_date.isoformat(),
            "amount": amount,
            "denomination": recurring.denomination,
            "status": recurring.status,
            "templateType": recurring.template_type,
            "memberTier": recurring.member_tier,
        },
        "participants": {
            "sourceAccountID": recurring.source_account_id,
            "targetAccountID": recurring.target_account_id,
        },
        "execution": {"totalExecutions": recurring.total_executions},
    }
