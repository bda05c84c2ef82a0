"""The ledger: settled credex of the active account, a few per page, and any one of them opened in full.

A page is fetched once (getLedger) and kept in flow data, so opening an entry and coming back shows the same
page without another read; Next and Previous fetch the neighbouring page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.components.base import ApiComponent, DisplayComponent, InputComponent, ReadOnlyState, StepContext, notice
from app.components.money import format_amount
from app.credex import CredexAuth
from app.credex.models_credex import GetCredexDetails, LedgerEntry
from app.state.results import ValidationResult
from app.whatsapp.messages import ListMessage, OutboundMessage, Row, Section, fit

PAGE_SIZE = 5
"""Entries per page: with Previous, Next and Menu the list keeps to 8 of WhatsApp's 10 rows."""
NEXT_ID, PREVIOUS_ID, MENU_ID = "next", "previous", "menu"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EMPTY = "Your ledger is empty: no credex has been settled on this account yet."


def signed_amount(amount: str, denomination: str) -> str:
    """'+3.00 USD' for money in, '-5.00 USD' for money out."""
    value = Decimal(amount)
    return ("+" if value > 0 else "") + format_amount(value, denomination)


def entry_data(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "credex_id": entry.credex_id,
        "amount": str(entry.amount),
        "denomination": entry.denomination,
        "counterparty": entry.counterparty_account_name or "",
        "description": entry.description or "",
        "date": entry.timestamp.date().isoformat() if entry.timestamp else "",
    }


def credex_data(details: GetCredexDetails) -> dict[str, Any]:
    amount = details.formatted_initial_amount or format_amount(details.initial_amount, details.denomination or "USD")
    return {
        "amount": amount,
        "counterparty": details.counterparty_account_name,
        "secured": details.secured_credex,
        "status": details.transaction_type,
        "due_date": details.due_date.isoformat() if details.due_date else None,
        "created": details.created_at.date().isoformat() if details.created_at else None,
        "credex_id": details.credex_id,
    }


class LoadLedger(ApiComponent):
    """getLedger for the page in flow data; an empty ledger says so and goes back to the menu."""

    outcomes = frozenset({"ok", "empty"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        account_id = ctx.state.get("active_account_id")
        if not account_id:
            return ValidationResult.failure(
                "Your account is not loaded yet. Type *menu* to try again.", outcome="error"
            )
        page = max(0, int(ctx.data.get("page") or 0))
        response = await ctx.credex.get_ledger(auth, account_id, start_row=page * PAGE_SIZE, num_rows=PAGE_SIZE)
        if not response.details.ledger and page > 0:  # the ledger shrank under us: start from the newest again
            page = 0
            response = await ctx.credex.get_ledger(auth, account_id, start_row=0, num_rows=PAGE_SIZE)
        entries = [entry_data(e) for e in response.details.ledger[:PAGE_SIZE]]
        if not entries:
            ctx.send(notice(EMPTY))
            return ValidationResult.success(outcome="empty")
        stored = ctx.put(page=page, entries=entries, has_more=response.dashboard.pagination.has_more, entry=None)
        return stored if not stored.valid else ValidationResult.success()


class LedgerChoice(InputComponent):
    """The page as a list: its entries, then Previous / Next where there is such a page, and Menu."""

    outcomes = frozenset({"ok", "page", "back"})
    field = "credex_id"

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        data = ctx.data
        page = int(data.get("page") or 0)
        rows = [
            Row.safe(
                e["credex_id"],
                f"{signed_amount(e['amount'], e['denomination'])} · {e['counterparty']}",
                " · ".join(p for p in (e["description"], day(e["date"])) if p),
            )
            for e in data.get("entries") or []
        ]
        if page > 0:
            rows.append(Row(id=PREVIOUS_ID, title="Previous", description="Newer entries"))
        if data.get("has_more"):
            rows.append(Row(id=NEXT_ID, title="Next", description="Older entries"))
        rows.append(Row(id=MENU_ID, title="Menu", description="Back to the menu"))
        body = f"Your ledger, page {page + 1}, newest first. Choose an entry to see its details."
        return [ListMessage(body=body, button="Ledger", sections=[Section(title="Settled credex", rows=rows)])]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        choice = text.strip().lower()
        data = ctx.data
        page = int(data.get("page") or 0)
        if choice in {NEXT_ID, "more", "older"}:
            if not data.get("has_more"):
                return ValidationResult.failure("This is the last page of your ledger: there is no *Next*.")
            ctx.put(page=page + 1)
            return ValidationResult.success(outcome="page")
        if choice in {PREVIOUS_ID, "prev", "newer"}:
            if page == 0:
                return ValidationResult.failure("This is the first page of your ledger: there is no *Previous*.")
            ctx.put(page=page - 1)
            return ValidationResult.success(outcome="page")
        if choice == "back":
            return ValidationResult.success(outcome="back")
        for entry in data.get("entries") or []:
            if choice == str(entry["credex_id"]).lower():
                return ValidationResult.success(entry["credex_id"])
        return ValidationResult.failure(
            f"I don't know *{fit(text.strip(), 40)}* here. Please choose an entry, or Next, Previous or Menu."
        )

    def help(self, ctx: StepContext) -> str:
        return (
            "This is your ledger, newest first. Tap *Ledger* and choose an entry to see it in full, or *Next* "
            "and *Previous* for other pages (you can also type the entry's number in the list)."
        )


class OpenEntry(ApiComponent):
    """getCredex for the chosen entry, seen from the active account."""

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        account_id = ctx.state.get("active_account_id")
        response = await ctx.credex.get_credex(auth, ctx.data["credex_id"], account_id)
        stored = ctx.put(entry=credex_data(response.details))
        return stored if not stored.valid else ValidationResult.success()


def day(iso: str | None) -> str:
    """'2026-12-15' → '15 Dec 2026' (no locale: the same on every server)."""
    if not iso:
        return ""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}"


def entry_sentence(entry: dict[str, Any]) -> str:
    """'Alice's Shop owes you 30.00 USD, due 15 Dec 2026.' — who owes or paid whom, never a raw id."""
    amount = str(entry.get("amount") or "an amount")
    outgoing = amount.startswith("-")
    amount = amount.lstrip("+-")
    who = str(entry.get("counterparty") or "someone")
    status = str(entry.get("status") or "").upper()
    due = f", due {day(entry.get('due_date'))}" if entry.get("due_date") else ""
    if status == "OWES":
        return f"You owe {who} {amount}{due}." if outgoing else f"{who} owes you {amount}{due}."
    if status == "CLEARED":
        return f"You paid {who} {amount}, secured." if outgoing else f"{who} paid you {amount}, secured."
    if status in ("OFFERS", "PENDING"):
        return f"Your offer of {amount} to {who} is pending." if outgoing else f"{who} offers you {amount}{due}."
    kind = "secured" if entry.get("secured") else "unsecured"
    said = {"DECLINED": "was declined", "CANCELLED": "was cancelled", "EXPIRED": "expired"}.get(status, "")
    side = f"to {who}" if outgoing else f"from {who}"
    article = "A" if kind == "secured" else "An"
    return f"{article} {kind} credex of {amount} {side}" + (f" {said}." if said else f"{due}.")


class EntryView(DisplayComponent):
    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        entry = view.get_flow_state().data.get("entry") or {}
        lines = ["*Credex details*", entry_sentence(entry)]
        if entry.get("created"):
            lines.append(f"Made on {day(entry['created'])}.")
        return [notice("\n".join(lines))]
