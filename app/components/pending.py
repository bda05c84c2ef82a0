"""Pending offers: list the active account's offers, confirm one, then accept, decline or cancel it exactly once.

The list is built from the dashboard in state, which the load step refreshes first, so a person never answers
an offer that was settled minutes ago without being told. Writes are called once per confirmation; an offer that
is no longer pending when credex-core gets the answer is explained and the list is shown again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from app.components.base import (
    ApiComponent,
    ConfirmComponent,
    DisplayComponent,
    InputComponent,
    ReadOnlyState,
    StepContext,
    notice,
)
from app.components.handlers import active_account, refresh_dashboard
from app.components.intents import IntentWrite
from app.components.money import format_amount
from app.credex import CredexAuth, CredexRejected
from app.credex.models_members import PendingOffer
from app.state.results import ValidationResult
from app.whatsapp.messages import INTERACTIVE_BODY_MAX, ListMessage, OutboundMessage, Row, Section, fit

PAGE_SIZE = 8
"""Offers per list page: with "More…" and "Back to menu" a page stays within WhatsApp's 10 rows."""
MORE_ID, MENU_ID = "more", "menu"
NOT_PENDING = frozenset({"ALREADY_PROCESSED", "ALREADY_ACCEPTED", "INVALID_STATE", "NOT_PENDING", "NOT_FOUND"})
"""credex-core's codes for an offer that was settled (or withdrawn) before this answer reached it."""
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


@dataclass(frozen=True)
class Verb:
    """What differs between accepting, declining and cancelling: which offers, and the words."""

    name: str
    incoming: bool
    past: str
    question: str
    empty: str


ACCEPT = Verb("accept", True, "accepted", "Accept this offer?", "No offers are waiting for your answer now.")
DECLINE = Verb("decline", True, "declined", "Decline this offer?", "No offers are waiting for your answer now.")
CANCEL = Verb("cancel", False, "cancelled", "Cancel your offer?", "You have no pending offers to cancel now.")


# -- offers as the dashboard in state describes them ----------------------------------------------------------


def pending_offers(state: Any, incoming: bool) -> list[PendingOffer]:
    account = active_account(state)
    if account is None:
        return []
    pending = account.pending_offers
    return list(pending.incoming if incoming else pending.outgoing)


def offer_data(offer: PendingOffer) -> dict[str, Any]:
    """What the confirmation and the answer need, as flow data (amount as a Decimal string, never a float)."""
    return {
        "credex_id": offer.credex_id,
        "amount": str(abs(offer.amount)) if offer.amount is not None else None,
        "denomination": offer.denomination,
        "formatted": (offer.formatted_initial_amount or "").lstrip("-+") or None,
        "counterparty": offer.counterparty_account_name or "someone",
        "secured": offer.secured,
        "due_date": offer.due_date.isoformat() if offer.due_date else None,
    }


def amount_of(data: dict[str, Any]) -> str:
    if data.get("amount") is not None and data.get("denomination"):
        return format_amount(Decimal(data["amount"]), data["denomination"])
    return str(data.get("formatted") or "an amount")


def terms_of(data: dict[str, Any]) -> str:
    """'secured credex', or 'unsecured credex, due 2026-12-24'."""
    if data.get("secured") is False:
        return "unsecured credex" + (f", due {data['due_date']}" if data.get("due_date") else "")
    return "secured credex" if data.get("secured") else "credex"


def describe(data: dict[str, Any], incoming: bool) -> str:
    """'*25.00 USD* from *Demo Alice Personal*' (or 'to' for the person's own offers)."""
    return f"*{amount_of(data)}* {'from' if incoming else 'to'} *{data['counterparty']}*"


def totals(offers: Sequence[dict[str, Any]]) -> str:
    """The sum per denomination, exact: '30.00 USD + 5.00 CAD'."""
    sums: dict[str, Decimal] = {}
    for offer in offers:
        if offer.get("amount") is not None and offer.get("denomination"):
            sums[offer["denomination"]] = sums.get(offer["denomination"], Decimal(0)) + Decimal(offer["amount"])
    return " + ".join(format_amount(v, d) for d, v in sums.items()) or "an unknown amount"


def page_count(offers: int) -> int:
    return max(1, -(-offers // PAGE_SIZE))


# -- steps ------------------------------------------------------------------------------------------------


class LoadPending(ApiComponent):
    """getMemberDashboardByPhone, so the list shows what credex-core holds now; nothing pending → the menu."""

    outcomes = frozenset({"ok", "empty"})

    def __init__(self, verb: Verb) -> None:
        self.verb = verb

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        stored = await refresh_dashboard(ctx, auth)
        if not stored.valid:
            return stored
        ctx.put(page=0, offer=None)
        if not pending_offers(ctx.state, self.verb.incoming):
            ctx.send(notice(self.verb.empty))
            return ValidationResult.success(outcome="empty")
        return ValidationResult.success()


class PickOffer(InputComponent):
    """One page of offers as a WhatsApp list; "More…" pages through them (and round to the first page)."""

    outcomes = frozenset({"ok", "more", "back"})
    field = "offer"

    def __init__(self, verb: Verb) -> None:
        self.verb = verb

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        offers = pending_offers(ctx.state, self.verb.incoming)
        pages = page_count(len(offers))
        page = min(int(ctx.data.get("page") or 0), pages - 1)
        shown = offers[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        rows = [self._row(o) for o in shown]
        if pages > 1:
            last = page == pages - 1
            rows.append(Row(id=MORE_ID, title="More…", description="Back to the first offers" if last else None))
        rows.append(Row(id=MENU_ID, title="Back to menu"))
        which = "waiting for your answer" if self.verb.incoming else "you made that are still pending"
        body = f"Offers {which}" + (f" (page {page + 1} of {pages})" if pages > 1 else "") + ". Choose one."
        return [ListMessage(body=body, button="Offers", sections=[Section(title="Pending offers", rows=rows)])]

    def help(self, ctx: StepContext) -> str:
        action = {"accept": "accept", "decline": "decline", "cancel": "withdraw"}[self.verb.name]
        return (
            f"Tap *Offers* and choose the offer you want to {action}, or type its number in the list. "
            "You will see it in full and confirm before anything is sent."
        )

    def stale(self, ctx: StepContext, tap: str) -> str | None:
        if _UUID.match(tap):
            return "That offer is no longer pending, so nothing was done. Here are the offers now:"
        return None

    def _row(self, offer: PendingOffer) -> Row:
        data = offer_data(offer)
        side = "From" if self.verb.incoming else "To"
        return Row.safe(
            offer.credex_id,
            f"{amount_of(data)} · {data['counterparty']}",
            f"{side} {data['counterparty']} · {terms_of(data)}",
        )

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        choice = text.strip()
        offers = pending_offers(ctx.state, self.verb.incoming)
        if choice.lower() in {"back", "back to menu"}:
            return ValidationResult.success(outcome="back")
        if choice.lower() in {MORE_ID, "more…", "more..."}:
            pages = page_count(len(offers))
            if pages == 1:
                return ValidationResult.failure("All the offers are in the list already: please choose one.")
            ctx.put(page=(int(ctx.data.get("page") or 0) + 1) % pages)
            return ValidationResult.success(outcome="more")
        for offer in offers:
            if choice.lower() == offer.credex_id.lower():
                return ValidationResult.success(offer_data(offer))
        if _UUID.match(choice):
            return ValidationResult.failure("That offer is no longer pending. Please choose one from this list.")
        return ValidationResult.failure(f"I don't know *{fit(choice, 40)}* here. Please choose an offer from the list.")


class ConfirmOffer(ConfirmComponent):
    """Amount, counterparty, secured or unsecured and the due date, before the one write."""

    verb: ClassVar[Verb] = ACCEPT

    def summary(self, ctx: StepContext) -> str:
        offer = ctx.data.get("offer")
        if not isinstance(offer, dict):
            return f"{self.verb.question}\n\nThe offer is no longer selected: tap *{self.no_title}* to see the list."
        body = f"{self.verb.question}\n\n{describe(offer, self.verb.incoming)}\n{terms_of(offer).capitalize()}"
        return fit(body, INTERACTIVE_BODY_MAX, field="confirm.body")


class ConfirmAccept(ConfirmOffer):
    verb = ACCEPT
    yes_title = "Accept"


class ConfirmDecline(ConfirmOffer):
    verb = DECLINE
    yes_title = "Decline offer"
    no_title = "Keep it"


class ConfirmCancel(ConfirmOffer):
    verb = CANCEL
    yes_title = "Cancel offer"
    no_title = "Keep it"


class AnswerOffer(IntentWrite):
    """acceptCredex / declineCredex / cancelCredex, exactly once: an intent first; a later try finds the
    earlier one and asks credex-core (is the offer still pending? is it in the ledger?) instead of repeating;
    an offer settled meanwhile by someone else is explained, not retried."""

    outcomes = frozenset({"ok", "rejected"})

    def __init__(self, verb: Verb) -> None:
        self.verb = verb
        self.operation = f"{verb.name}Credex"  # type: ignore[misc]

    def identity(self, ctx: StepContext) -> list[Any]:
        offer = ctx.data.get("offer")
        return [offer.get("credex_id") if isinstance(offer, dict) else None]

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        offer = ctx.data.get("offer")
        return {"credex_id": offer.get("credex_id") if isinstance(offer, dict) else None}

    def what(self, ctx: StepContext) -> str:
        offer = ctx.data.get("offer")
        return "The offer" if not isinstance(offer, dict) else self._what(offer).capitalize()

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        credex_id = intent.get("credex_id")
        if not (await refresh_dashboard(ctx, auth)).valid or not credex_id:
            return None
        if any(o.credex_id == credex_id for o in pending_offers(ctx.state, incoming=self.verb.incoming)):
            return False  # still pending: the earlier try never reached credex-core
        if self.verb.name != "accept":
            return True  # no longer pending, and we asked for exactly that
        account = ctx.state.get("active_account_id")
        ledger = await ctx.credex.get_ledger(auth, account, start_row=0, num_rows=50) if account else None
        return ledger is not None and any(e.credex_id == credex_id for e in ledger.details.ledger)

    def done(self, ctx: StepContext, intent: dict[str, Any]) -> ValidationResult:
        offer = ctx.data.get("offer")
        what = self._what(offer) if isinstance(offer, dict) else "the offer"
        ctx.send(notice(f"✅ You {self.verb.past} {what}."))
        return ValidationResult.success()

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        offer = ctx.data.get("offer")
        if not isinstance(offer, dict):
            ctx.send(notice("That offer is no longer selected, so nothing was changed."))
            return ValidationResult.failure("no offer selected", outcome="rejected")
        write, operation = {
            "accept": (ctx.credex.accept_credex, "acceptCredex"),
            "decline": (ctx.credex.decline_credex, "declineCredex"),
            "cancel": (ctx.credex.cancel_credex, "cancelCredex"),
        }[self.verb.name]
        credex_id = str(offer["credex_id"])
        try:
            await write(auth, credex_id, idempotency_key=ctx.operation_key(operation, credex_id))
        except CredexRejected as exc:
            ctx.send(notice(self.explain(exc)))
            return ValidationResult.failure(exc.message, outcome="rejected", code=exc.code)
        ctx.send(notice(f"✅ You {self.verb.past} {self._what(offer)}."))
        return ValidationResult.success()

    def _what(self, offer: dict[str, Any]) -> str:
        mine = "your offer of " if not self.verb.incoming else "the offer of "
        return mine + describe(offer, self.verb.incoming)

    def explain(self, exc: CredexRejected) -> str:
        if exc.code in NOT_PENDING or exc.status == 409 or "pending" in exc.message.lower():
            return f"⚠️ This offer is no longer pending, so nothing was changed ({exc.message})."
        return f"⚠️ The offer could not be {self.verb.past}: {exc.message}"


class KeptOffer(DisplayComponent):
    """Cancel at the confirmation: nothing was sent to credex-core, and the person is told so."""

    def __init__(self, verb: Verb) -> None:
        self.verb = verb

    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        offer = view.get_flow_state().data.get("offer")
        what = describe(offer, self.verb.incoming) if isinstance(offer, dict) else "the offer"
        return [notice(f"Nothing was changed: {what} is still pending.")]


# -- accept all -------------------------------------------------------------------------------------------


class LoadAll(ApiComponent):
    """A fresh dashboard, and the ids the confirmation will list: exactly those are accepted, no later arrival."""

    outcomes = frozenset({"ok", "empty"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        stored = await refresh_dashboard(ctx, auth)
        if not stored.valid:
            return stored
        offers = [offer_data(o) for o in pending_offers(ctx.state, incoming=True)]
        if not offers:
            ctx.send(notice(ACCEPT.empty))
            return ValidationResult.success(outcome="empty")
        ctx.put(offers=offers)
        return ValidationResult.success()


class ConfirmAll(ConfirmComponent):
    yes_title = "Accept all"
    shown: ClassVar[int] = 10

    def summary(self, ctx: StepContext) -> str:
        offers: list[dict[str, Any]] = list(ctx.data.get("offers") or [])
        lines = [f"• {describe(o, incoming=True)} ({terms_of(o)})" for o in offers[: self.shown]]
        if len(offers) > self.shown:
            lines.append(f"…and {len(offers) - self.shown} more")
        body = f"Accept all {len(offers)} offers waiting for you?\n\n" + "\n".join(lines)
        body += f"\n\n*Total*: {totals(offers)}"
        return fit(body, INTERACTIVE_BODY_MAX, field="confirm.body")


class AcceptAll(IntentWrite):
    """acceptCredexBulk once with the confirmed ids; credex-core answers per offer, so failures are listed.
    After an unfinished try, a fresh dashboard says which of the offers are still waiting."""

    operation = "acceptCredexBulk"

    def identity(self, ctx: StepContext) -> list[Any]:
        return sorted(o["credex_id"] for o in ctx.data.get("offers") or [])

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        return {"ids": self.identity(ctx)}

    def what(self, ctx: StepContext) -> str:
        return "Accepting all your offers"

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        if not (await refresh_dashboard(ctx, auth)).valid:
            return None
        waiting = {o.credex_id for o in pending_offers(ctx.state, incoming=True)} & set(intent.get("ids") or [])
        if not waiting:
            return True
        return False if len(waiting) == len(intent.get("ids") or []) else None

    def done(self, ctx: StepContext, intent: dict[str, Any]) -> ValidationResult:
        ctx.send(notice(f"✅ Accepted {len(intent.get('ids') or [])} offers."))
        return ValidationResult.success()

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        offers: list[dict[str, Any]] = list(ctx.data.get("offers") or [])
        ids = [str(o["credex_id"]) for o in offers]
        key = ctx.operation_key("acceptCredexBulk", *ids)
        response = await ctx.credex.accept_credex_bulk(auth, ids, idempotency_key=key)
        summary = response.details.summary
        by_id = {o["credex_id"]: o for o in offers}
        lines = [f"✅ Accepted {len(summary.accepted)} of {len(offers)} offers."]
        if summary.already_accepted:
            lines.append(f"{len(summary.already_accepted)} had been accepted already.")
        for failure in summary.failed:
            offer = by_id.get(failure.credex_id)
            what = describe(offer, incoming=True) if offer else "One offer"
            lines.append(f"⚠️ {what} was not accepted: {failure.error or 'no reason given'}")
        ctx.send(notice("\n".join(lines)))
        return ValidationResult.success()


class KeptAll(DisplayComponent):
    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        return [notice("Nothing was accepted: your offers are still pending.")]
