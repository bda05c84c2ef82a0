"""Sandbox handlers for credex: offers and their answers, one credex, ledger pages, the tier subscription.

Handlers are synchronous, so each runs atomically on the sandbox's event loop.
"""

from __future__ import annotations

from app.credex import models as m
from app.credex.sandbox_ledger import Credex, Ledger, Member
from app.credex.sandbox_offers import (
    accept_credex,
    accept_credex_bulk,
    cancel_credex,
    create_credex,
    create_subscription,
    decline_credex,
    ledger_page,
    viewable_credex,
)
from app.credex.sandbox_support import money
from app.credex.sandbox_views import (
    Json,
    Reply,
    credex_details,
    ledger_entry,
    member_dashboard,
    recurring_details,
    signed_in,
    timestamp,
)


def _kind(c: Credex) -> str:
    return "Secured" if c.secured else "Unsecured"


def create(ledger: Ledger, member: Member | None, req: m.CreateCredexRequest) -> Reply:
    me = signed_in(member)
    c = create_credex(ledger, me, req)
    receiver = ledger.accounts[c.receiver_account_id]
    details: Json = {
        "credexID": c.credex_id,
        "amount": f"{c.amount:f}",
        "denomination": c.denomination,
        "securedCredex": c.secured,
        "receiverAccountID": receiver.account_id,
        "receiverAccountName": receiver.name,
    }
    if c.due_date is not None:
        details["dueDate"] = c.due_date.isoformat()
    return Reply(
        f"{_kind(c)} credex for {money(c.amount, c.denomination)} offered to {receiver.name}",
        "CREDEX_CREATED",
        c.credex_id,
        details,
        member_dashboard(ledger, me),
    )


def accept(ledger: Ledger, member: Member | None, req: m.CredexIDRequest) -> Reply:
    me = signed_in(member)
    c = accept_credex(ledger, me, req.credex_id)
    details = {
        "credexID": c.credex_id,
        "amount": f"{c.amount:f}",
        "denomination": c.denomination,
        "securedCredex": c.secured,
        "acceptorAccountID": c.receiver_account_id,
    }
    return Reply(
        f"{_kind(c)} credex for {money(c.amount, c.denomination)} accepted successfully",
        "CREDEX_ACCEPTED",
        c.credex_id,
        details,
        member_dashboard(ledger, me),
    )


def decline(ledger: Ledger, member: Member | None, req: m.CredexIDRequest) -> Reply:
    me = signed_in(member)
    c = decline_credex(ledger, me, req.credex_id)
    details = {
        "credexID": c.credex_id,
        "declinedAt": timestamp(ledger.now()),
        "amount": f"{c.amount:f}",
        "denomination": c.denomination,
        "securedCredex": c.secured,
        "receiverAccountID": c.receiver_account_id,
        "reason": "Declined by receiver",
    }
    return Reply("Credex declined successfully", "CREDEX_DECLINED", c.credex_id, details, member_dashboard(ledger, me))


def cancel(ledger: Ledger, member: Member | None, req: m.CredexIDRequest) -> Reply:
    """As in the contract, cancel's details carry no credexID: action.id has it."""
    me = signed_in(member)
    c = cancel_credex(ledger, me, req.credex_id)
    details = {
        "amount": f"{c.amount:f}",
        "denomination": c.denomination,
        "securedCredex": c.secured,
        "receiverAccountID": c.receiver_account_id,
        "reason": "Cancelled by issuer",
    }
    return Reply(
        "Credex cancelled successfully", "CREDEX_CANCELLED", c.credex_id, details, member_dashboard(ledger, me)
    )


def accept_bulk(ledger: Ledger, member: Member | None, req: m.AcceptCredexBulkRequest) -> Reply:
    me = signed_in(member)
    r = accept_credex_bulk(ledger, me, req.credex_ids)
    total = len(r.accepted) + len(r.already_accepted) + len(r.failed)
    details = {
        "summary": {
            "accepted": r.accepted,
            "alreadyAccepted": r.already_accepted,
            "failed": [{"credexID": cid, "error": error} for cid, error in r.failed],
        },
        "totalProcessed": total,
        "successCount": len(r.accepted),
        "failureCount": len(r.failed),
    }
    return Reply(
        f"Successfully processed {len(r.accepted)} out of {total} Credex transactions",
        "CREDEX_BULK_ACCEPTED",
        None,
        details,
        member_dashboard(ledger, me),
    )


def get_credex(ledger: Ledger, member: Member | None, req: m.GetCredexRequest) -> Reply:
    c, account = viewable_credex(ledger, signed_in(member), req.credex_id, req.account_id)
    return Reply(
        "Credex details retrieved successfully",
        "CREDEX_RETRIEVED",
        c.credex_id,
        credex_details(ledger, c, account.account_id),
        {},
    )


def get_ledger(ledger: Ledger, member: Member | None, req: m.GetLedgerRequest) -> Reply:
    account, page, has_more = ledger_page(ledger, signed_in(member), req.account_id, req.start_row, req.num_rows)
    entries = [ledger_entry(ledger, c, account.account_id) for c in page]
    pagination = {"startRow": req.start_row, "numRows": req.num_rows, "hasMore": has_more}
    return Reply(
        "Ledger entries retrieved successfully",
        "LEDGER_RETRIEVED",
        account.account_id,
        {"accountID": account.account_id, "ledger": entries},
        {"ledger": entries, "pagination": pagination},
    )


def create_recurring(ledger: Ledger, member: Member | None, req: m.CreateRecurringRequest) -> Reply:
    me = signed_in(member)
    r = create_subscription(ledger, me, req)
    return Reply(
        "Recurring transaction created successfully",
        "RECURRING_CREATED",
        r.recurring_id,
        recurring_details(r),
        member_dashboard(ledger, me),
        status=201,
    )
