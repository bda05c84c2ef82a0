"""The dashboard (display) and the menu of the actions that apply (input)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.components.base import DisplayComponent, InputComponent, ReadOnlyState, StepContext
from app.components.handlers import active_account, all_accounts
from app.components.handles import member_denom
from app.components.limits import offer_problem
from app.components.money import format_amount
from app.components.shortcuts import looks_like_shortcut, parse_shortcut
from app.credex.models_common import Denomination
from app.credex.models_members import DashboardAccount
from app.state.results import ValidationResult
from app.whatsapp.messages import INTERACTIVE_BODY_MAX, ROWS_MAX, ListMessage, OutboundMessage, Row, Section, Text, fit

SHORTCUT_AGAIN = "Type the shortcut again with a smaller amount, or choose from the list."


@dataclass(frozen=True)
class Facts:
    account: DashboardAccount
    accounts: int
    tier: int

    @property
    def incoming(self) -> int:
        return len(self.account.pending_offers.incoming)

    @property
    def outgoing(self) -> int:
        return len(self.account.pending_offers.outgoing)

    @property
    def business(self) -> bool:
        return self.account.account_type == "BUSINESS" and self.account.is_owned_account is not False


@dataclass(frozen=True)
class MenuAction:
    id: str
    title: str
    description: str
    applies: Callable[[Facts], bool]
    rare: bool = False
    """Rare account actions move behind a 'More' row when the list would exceed WhatsApp's 10 rows."""


ACTIONS: tuple[MenuAction, ...] = (
    MenuAction("offer_secured", "Offer secured credex", "Pay from your secured balance", lambda f: True),
    MenuAction("offer_unsecured", "Offer unsecured", "A promise to pay by a due date", lambda f: True),
    MenuAction("accept", "Accept offers", "Offers waiting for you", lambda f: f.incoming > 0),
    MenuAction("decline", "Decline offers", "Say no to an offer", lambda f: f.incoming > 0),
    MenuAction("accept_all", "Accept all", "Accept every waiting offer", lambda f: f.incoming > 1),
    MenuAction("cancel", "Cancel my offers", "Withdraw an offer you made", lambda f: f.outgoing > 0),
    MenuAction("ledger", "View ledger", "Your settled credex", lambda f: True),
    MenuAction("upgrade", "Upgrade tier", "Lift your daily limit", lambda f: f.tier == 1, rare=True),
    MenuAction("switch", "Switch account", "Act for another account", lambda f: f.accounts > 1, rare=True),
    MenuAction("authorize", "Authorize member", "Let someone act for this account", lambda f: f.business, rare=True),
    MenuAction("deauthorize", "Remove member", "Revoke someone's access", lambda f: f.business, rare=True),
    MenuAction(
        "send_offers_to", "Offers go to…", "Who receives this account's offers", lambda f: f.business, rare=True
    ),
    MenuAction(
        "create_business", "New business account", "Open an account for a business", lambda f: f.tier >= 3, rare=True
    ),
)
MORE = MenuAction("more", "More…", "Account settings and other actions", lambda f: True)


def facts(view: ReadOnlyState | StepContext) -> Facts | None:
    state = view.state if isinstance(view, StepContext) else view
    account = active_account(state)
    if account is None:
        return None
    return Facts(account, len(all_accounts(state)), state.get("member").member_tier)


def menu_pages(f: Facts, enabled: frozenset[str]) -> tuple[list[MenuAction], list[MenuAction]]:
    """(first list, 'More' list): everything fits in one list when it can."""
    actions = [a for a in ACTIONS if a.id in enabled and a.applies(f)]
    if len(actions) <= ROWS_MAX:
        return actions, []
    common = [a for a in actions if not a.rare]
    return [*common, MORE], [a for a in actions if a.rare]


MENU_QUESTION = "What would you like to do? Or type a shortcut like *5=>handle*."


def menu_body(state: Any) -> str:
    """The menu's body: the dashboard summary above the question when both fit in one list message (1,024
    characters), so a turn ends with two messages (the result and the menu), not three: fewer notifications,
    and fewer billable messages."""
    summary = summary_text(state)
    if summary is not None and len(summary) + 2 + len(MENU_QUESTION) <= INTERACTIVE_BODY_MAX:
        return f"{summary}\n\n{MENU_QUESTION}"
    return MENU_QUESTION


class DashboardView(DisplayComponent):
    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        summary = summary_text(view)
        if summary is None:
            return [Text(body="Your dashboard is not available right now. Type *menu* to try again.")]
        if menu_body(view) != MENU_QUESTION:
            return []  # the menu that follows carries it
        return [Text.safe(summary)]


def summary_text(view: Any) -> str | None:
    """The active account's balances and pending counts, as the person reads them; None when not loaded."""
    f = facts(view)
    if f is None:
        return None
    a, member = f.account, view.get("member")
    lines = [f"*{a.account_name}*" + (f"  (@{a.account_handle})" if a.account_handle else "")]
    balances = a.balances.secured_net_balances_by_denom
    lines.append("\n*Secured balances*")
    lines += [f"  {format_amount(m.amount, m.denomination or a.default_denom)}" for m in balances] or ["  none yet"]
    unsecured = a.balances.unsecured_balances_in_default_denom
    if unsecured is not None and (unsecured.total_payables.amount or unsecured.total_receivables.amount):
        owe, owed = unsecured.total_payables, unsecured.total_receivables
        lines.append(
            f"*Unsecured*  you owe {format_amount(abs(owe.amount), owe.denomination or a.default_denom)}, "
            f"owed to you {format_amount(owed.amount, owed.denomination or a.default_denom)}"
        )
    net = a.balances.net_credex_assets_in_default_denom
    if net is not None:
        lines.append(f"*Net assets*  {format_amount(net.amount, net.denomination or a.default_denom)}")
    if f.tier < 3 and member.remaining_available_usd is not None:
        lines.append(f"*Daily limit left*  {format_amount(member.remaining_available_usd, 'USD')}")
    lines.append(f"\nPending: {offers(f.incoming)} to you, {f.outgoing} from you")
    return "\n".join(lines)


def offers(n: int) -> str:
    return "1 offer" if n == 1 else f"{n} offers"


class MenuChoice(InputComponent):
    """The list of actions; a shortcut typed here jumps straight to an offer's confirmation."""

    page = 0
    hint = "Type help to see what you can type."

    def help(self, ctx: StepContext) -> str:
        return (
            "Tap *Choose* and pick an action, or type its name or its number in the list. To offer straight "
            "away, type a shortcut: *5=>handle* offers 5 secured, *5->handle* offers 5 unsecured (due in 4 "
            "weeks), *5->handle=2026-12-24* with a due date. A person's handle is their phone number."
        )

    def __init__(self, enabled: frozenset[str]) -> None:
        self.enabled = enabled
        self.outcomes = enabled | {"more"}

    def _page(self, ctx: StepContext) -> list[MenuAction]:
        f = facts(ctx)
        if f is None:
            return []
        return menu_pages(f, self.enabled)[self.page]

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        actions = self._page(ctx)
        if not actions:
            return [Text(body="Nothing to do here right now. Type *menu* to go back.")]
        rows = [Row.safe(a.id, a.title, a.description) for a in actions]
        body = menu_body(ctx.state)
        return [ListMessage(body=body, button="Choose", sections=[Section(title="Actions", rows=rows)])]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        choice = text.strip()
        if "shortcut" in self.enabled and looks_like_shortcut(choice):
            parsed = parse_shortcut(choice, ctx.now().date(), member_denom(ctx), ctx.phone_region)
            if not parsed.valid:
                return parsed
            offer = parsed.value
            amount, denom = Decimal(offer["amount"]), Denomination(offer["denomination"])
            problem = offer_problem(ctx.state, amount, denom, bool(offer["secured"]), then=SHORTCUT_AGAIN)
            if problem is not None:
                return ValidationResult.failure(problem)
            return ValidationResult.success(outcome="shortcut", carry=parsed.value)
        for action in self._page(ctx):
            if choice.lower() in {action.id, action.title.lower()}:
                carry = {"secured": action.id == "offer_secured"} if action.id.startswith("offer_") else {}
                return ValidationResult.success(outcome=action.id, carry=carry)
        return ValidationResult.failure(f"I don't know *{fit(choice, 40)}* here. Please choose from the list.")


class MoreChoice(MenuChoice):
    page = 1
