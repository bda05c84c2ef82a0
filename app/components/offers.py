"""Offering a credex: recipient handle and lookup, due date, confirmation, and the one createCredex call (the amount:
offer_amount.py).

Flow data (all JSON, amounts as strings): secured, amount, denomination, handle, receiver_account_id,
receiver_name, receiver_handle, due_date (ISO date or None). The menu's offer rows carry `secured`; a shortcut
typed at the menu carries everything but the receiver's account, so it enters at the lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.components.base import (
    ApiComponent,
    ConfirmComponent,
    DisplayComponent,
    InputComponent,
    ReadOnlyState,
    StepContext,
    notice,
)
from app.components.dates import MAX_DUE, default_due, parse_due_date
from app.components.handlers import active_account, refresh_dashboard
from app.components.handles import parse_handle
from app.components.intents import IntentWrite
from app.components.money import format_amount
from app.credex import CredexAuth, CredexRejected
from app.credex.models_common import Denomination
from app.state.results import ValidationResult
from app.whatsapp.messages import Button, OutboundMessage, ReplyButtons, Text, fit

DEFAULT_WORDS = frozenset({"default", "default (4 weeks)", "4 weeks", "d"})
AMOUNT_CODES = frozenset({"INSUFFICIENT_SECURED_BALANCE", "INSUFFICIENT_TIER", "INVALID_AMOUNT"})
"""createCredex refusals a smaller or different amount can fix: the person is asked for the amount again."""
DATE_CODES = frozenset({"INVALID_DATE"})
CANCELLED = "Offer cancelled, nothing was sent."
UNSECURED_WORDS = frozenset({"unsecured", "make it unsecured", "offer unsecured", "unsecured offer"})
"""Typed at a secured offer's amount: the same offer as an unsecured one (a way out for an empty balance)."""


def _outgoing(state: Any) -> list[Any]:
    account = active_account(state)
    return list(account.pending_offers.outgoing) if account is not None else []


def kind_of(data: dict[str, Any]) -> str:
    return "secured" if data.get("secured") else "unsecured"


def a_kind(data: dict[str, Any]) -> str:
    """'a *secured* credex' / 'an *unsecured* credex'."""
    return "a *secured* credex" if data.get("secured") else "an *unsecured* credex"


def secured_balance(ctx: StepContext) -> list[str]:
    """The active account's secured balances, formatted ('488.00 USD'); empty when it has none."""
    account = active_account(ctx.state)
    if account is None:
        return []
    held = account.balances.secured_net_balances_by_denom
    return [format_amount(m.amount, m.denomination or account.default_denom) for m in held if m.amount > 0]


def amount_text(data: dict[str, Any]) -> str:
    return format_amount(Decimal(data["amount"]), data["denomination"])


def receiver_text(data: dict[str, Any]) -> str:
    name, handle = data.get("receiver_name") or "", data.get("receiver_handle") or data.get("handle", "")
    return f"{name} (@{handle})" if name else f"@{handle}"


class OfferHandle(InputComponent):
    """Who receives it: an account handle, checked for form here and for existence by OfferLookup."""

    field = "handle"
    takes_contact = True

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        return [
            Text(
                body="Who is the offer for? Type their *account handle*: for a person, their phone number, "
                "like *077 123 4567*. You can also share their contact card."
            )
        ]

    def help(self, ctx: StepContext) -> str:
        return (
            "Tell me who receives the offer: a business's handle (like *alices_shop*), or a person's phone "
            "number, with or without the country code (*+263 77 123 4567* or *077 123 4567*). Sharing their "
            "contact card (📎 → Contact) works too."
        )

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        return parse_handle(text, region=ctx.phone_region)


class OfferLookup(ApiComponent):
    """getAccountByHandle: a handle nobody has, or the person's own active account, goes back to the question."""

    outcomes = frozenset({"ok", "needs_due", "unknown", "self"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        parsed = parse_handle(str(ctx.data.get("handle", "")))
        if not parsed.valid:
            ctx.send(notice(f"⚠️ {parsed.error}"))
            return ValidationResult.success(outcome="unknown")
        handle = parsed.value
        try:
            response = await ctx.credex.get_account_by_handle(auth, handle)
        except CredexRejected as exc:
            if exc.status not in (400, 404):
                raise
            ctx.send(notice(f"⚠️ No account has the handle *{fit(handle, 40)}*. Please check it and type it again."))
            return ValidationResult.success(outcome="unknown")
        found = response.details
        if found.account_id == ctx.state.get("active_account_id"):
            ctx.send(notice("⚠️ That is your own account: you cannot make an offer to yourself. Who is it for?"))
            return ValidationResult.success(outcome="self")
        stored = ctx.put(
            handle=handle,
            receiver_account_id=found.account_id,
            receiver_name=found.account_name,
            receiver_handle=found.account_handle,
        )
        if not stored.valid:
            return stored
        needs_due = not ctx.data.get("secured") and not ctx.data.get("due_date")
        return ValidationResult.success(outcome="needs_due" if needs_due else "ok")


class OfferDueDate(InputComponent):
    """When an unsecured credex is due: 4 weeks by default, at most 5, strictly YYYY-MM-DD."""

    field = "due_date"

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        today = ctx.now().date()
        body = (
            f"When will you pay it? Type a date as YYYY-MM-DD, at most {(today + MAX_DUE).isoformat()}, "
            f"or tap *Default (4 weeks)* for {default_due(today).isoformat()}."
        )
        return [ReplyButtons(body=body, buttons=[Button(id="default", title="Default (4 weeks)")])]

    def help(self, ctx: StepContext) -> str:
        today = ctx.now().date()
        return (
            "An unsecured credex is a promise to pay by a date. Type that date as year-month-day, like "
            f"*{default_due(today).isoformat()}*, at most 5 weeks from today, or tap *Default (4 weeks)*."
        )

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        today = ctx.now().date()
        if " ".join(text.lower().split()) in DEFAULT_WORDS:
            return ValidationResult.success(default_due(today).isoformat())
        parsed = parse_due_date(text, today)
        return ValidationResult.success(parsed.value.isoformat()) if parsed.valid else parsed


class OfferConfirm(ConfirmComponent):
    yes_title = "Sign and send"
    no_title = "Don't send"

    def summary(self, ctx: StepContext) -> str:
        data = ctx.data
        account = active_account(ctx.state)
        lines = [
            f"Please confirm this *{kind_of(data)}* offer:",
            f"*Amount*  {amount_text(data)}",
            f"*From*  {account.account_name if account else 'your account'}",
            f"*To*  {receiver_text(data)}",
        ]
        if not data.get("secured"):
            lines.append(f"*Due*  {data.get('due_date')}")
        return fit("\n".join(lines), 1024, field="offer.summary")


class OfferCancelled(DisplayComponent):
    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        return [Text(body=CANCELLED)]


class CreateOffer(IntentWrite):
    """createCredex, exactly once: an intent first; a later try of the same offer reconciles with the pending
    offers instead of creating a second one (the client never repeats a write; a timeout is 'unconfirmed')."""

    outcomes = frozenset({"ok", "fix_amount", "fix_due"})
    operation = "createCredex"

    def identity(self, ctx: StepContext) -> list[Any]:
        d = ctx.data
        parts = ("receiver_account_id", "amount", "denomination", "secured", "due_date")
        return [ctx.state.get("active_account_id"), *(d.get(k) for k in parts)]

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        """The outgoing offers known before the write: a new one matching this offer afterwards is ours."""
        return {"known": [o.credex_id for o in _outgoing(ctx.state)]}

    def what(self, ctx: StepContext) -> str:
        return f"Your offer of {amount_text(ctx.data)}"

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        if not (await refresh_dashboard(ctx, auth)).valid:
            return None
        data, known = ctx.data, set(intent.get("known") or [])
        for offer in _outgoing(ctx.state):
            if offer.credex_id in known or offer.amount is None:
                continue
            same = abs(offer.amount) == Decimal(data["amount"]) and offer.denomination == data["denomination"]
            if same and bool(offer.secured) == bool(data.get("secured")):
                ctx.put(reconciled_id=offer.credex_id)
                return True
        return False

    def done(self, ctx: StepContext, intent: dict[str, Any]) -> ValidationResult:
        name = receiver_text(ctx.data)
        ctx.send(notice(f"✅ Your {kind_of(ctx.data)} offer of {amount_text(ctx.data)} was sent to {name}."))
        return ValidationResult.success(ctx.data.get("reconciled_id"))

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        data = ctx.data
        issuer = ctx.state.get("active_account_id")
        if not issuer:
            return ValidationResult.failure("Your account is not loaded. Nothing was sent.", outcome="rejected")
        secured = bool(data.get("secured"))
        due = data.get("due_date")
        try:
            response = await ctx.credex.create_credex(
                auth,
                issuer_account_id=issuer,
                receiver_account_id=data["receiver_account_id"],
                amount=Decimal(data["amount"]),
                denomination=Denomination(data["denomination"]),
                secured=secured,
                due_date=None if secured or not due else date.fromisoformat(due),
                idempotency_key=ctx.operation_key("createCredex", issuer, data["receiver_account_id"], data["amount"]),
            )
        except CredexRejected as exc:
            if exc.code in AMOUNT_CODES:
                way_out = " Or type *unsecured* to offer it unsecured." if secured else ""
                ctx.send(notice(f"⚠️ {exc.message}\nNothing was sent. Let's try another amount.{way_out}"))
                return ValidationResult.success(outcome="fix_amount")
            if exc.code in DATE_CODES and not secured:
                ctx.send(notice(f"⚠️ {exc.message}\nNothing was sent. Let's pick another due date."))
                return ValidationResult.success(outcome="fix_due")
            raise
        name = response.details.receiver_account_name or receiver_text(data)
        ctx.send(notice(f"✅ Your {kind_of(data)} offer of {amount_text(data)} was sent to {name}."))
        return ValidationResult.success(response.details.credex_id)
