"""Account settings: the tier upgrade, switching the active account, and opening a business account.

Flow data (JSON only): upgrade keeps nothing; business keeps `account_name`, `account_handle` and `misses`
(handles found taken, so a person cannot loop on the availability check forever).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from app.components.base import (
    MAX_ATTEMPTS,
    TOO_MANY,
    ApiComponent,
    ConfirmComponent,
    DisplayComponent,
    InputComponent,
    ReadOnlyState,
    StepContext,
    notice,
)
from app.components.handlers import all_accounts, refresh_dashboard
from app.components.handles import HANDLE_MAX, HANDLE_MIN, member_denom, parse_handle
from app.components.intents import IntentWrite
from app.components.money import format_amount
from app.credex import CredexAuth, CredexRejected
from app.credex.models import MEMBERTIER_SUBSCRIPTION_DAYS, AccountType, DashboardAccount, Denomination
from app.state.manager import StateManager
from app.state.results import ValidationResult
from app.whatsapp.messages import (
    INTERACTIVE_BODY_MAX,
    ROWS_MAX,
    ListMessage,
    OutboundMessage,
    Row,
    Section,
    Text,
    fit,
)

TIER_PRICE = Decimal("1.00")
"""What the Entrepreneur tier costs per period: passed to subscribe_member_tier, so what we show is what is paid."""
TIER_DENOM = Denomination.USD
BUSINESS_NAME_MIN, BUSINESS_NAME_MAX = 3, 50
"""createAccount's accountName is 3 to 50 characters in the contract."""
BUSINESS_NAME = re.compile(r"^[^\W_][\w '’&.,()\-]*$")
CANCELLED = "❌ Cancelled. Nothing was created or changed."
BACK = Row(id="back", title="Back to menu")


def missed(ctx: StepContext, message: str, outcome: str) -> ValidationResult:
    """A lookup that found nothing usable: explain and ask again, or give up after MAX_ATTEMPTS.

    Counted in flow data, not by the runner: the runner re-asks the step that failed, and here the question
    to ask again is the input step before this lookup."""
    misses = int(ctx.data.get("misses", 0)) + 1
    ctx.put(misses=misses)
    if misses >= MAX_ATTEMPTS:
        ctx.send(notice(f"⚠️ {message}"), notice(TOO_MANY.format(n=misses)))
        return ValidationResult.failure(message, outcome="give_up")
    ctx.send(notice(f"⚠️ {message}"))
    return ValidationResult.failure(message, outcome=outcome)


class Cancelled(DisplayComponent):
    """What every confirmation's Cancel leads to: nothing was sent to credex-core, and the person is told."""

    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        return [Text(body=CANCELLED)]


# -- tier upgrade -----------------------------------------------------------------------------------------


def personal_account(state: StateManager) -> DashboardAccount | None:
    """The member's own personal account: the subscription is paid from it, whichever account is active."""
    for account in all_accounts(state):
        if account.account_type == AccountType.PERSONAL and account.is_owned_account is not False:
            return account
    return None


class UpgradeConfirm(ConfirmComponent):
    yes_title = "Upgrade"

    def summary(self, ctx: StepContext) -> str:
        account = personal_account(ctx.state)
        source = f" from *{account.account_name}*" if account else ""
        price = format_amount(TIER_PRICE, TIER_DENOM.value)
        body = (
            "*Upgrade to the Entrepreneur tier*\n\n"
            "No daily limit on the offers you make, and you can open business accounts.\n\n"
            f"Price: *{price} every {MEMBERTIER_SUBSCRIPTION_DAYS} days*, paid as secured credex{source}. "
            "The first payment is made today."
        )
        return fit(body, INTERACTIVE_BODY_MAX, field="upgrade.summary")


class Subscribe(IntentWrite):
    """createRecurring (MEMBERTIER_SUBSCRIPTION), exactly once: after an unfinished try, the member's tier on a
    fresh dashboard says whether it took effect."""

    operation = "createRecurring"

    def identity(self, ctx: StepContext) -> list[Any]:
        account = personal_account(ctx.state)
        return [account.account_id if account else None, "MEMBERTIER_SUBSCRIPTION"]

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        return {"tier_before": ctx.state.get("member").member_tier}

    def what(self, ctx: StepContext) -> str:
        return "Your upgrade to the Entrepreneur tier"

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        if not (await refresh_dashboard(ctx, auth)).valid:
            return None
        tier = ctx.state.get("member").member_tier
        return tier is not None and tier > (intent.get("tier_before") or 0)

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        account = personal_account(ctx.state)
        if account is None:
            return ValidationResult.failure(
                "You need a personal account to pay the subscription from.", outcome="rejected"
            )
        response = await ctx.credex.subscribe_member_tier(
            auth,
            account.account_id,
            start_date=ctx.now().date(),
            amount=TIER_PRICE,
            idempotency_key=ctx.operation_key("createRecurring", account.account_id),
        )
        next_date = response.details.next_date
        then = (
            f" The next payment of {format_amount(TIER_PRICE, TIER_DENOM.value)} is due on {next_date}."
            if next_date
            else ""
        )
        ctx.send(notice(f"🎉 You are on the *Entrepreneur tier* now.{then}"))
        return ValidationResult.success()


# -- switch account ---------------------------------------------------------------------------------------


def describe(account: DashboardAccount, active: str | None) -> str:
    parts = [f"@{account.account_handle}"] if account.account_handle else []
    parts.append(account.account_type.capitalize())
    if account.is_owned_account is False:
        parts.append("authorized")
    if account.account_id == active:
        parts.append("acting now")
    return " · ".join(parts)


class AccountChoice(InputComponent):
    """A list of the member's accounts; the choice becomes `active_account_id` (validated by update_state)."""

    outcomes = frozenset({"ok", "back"})

    def help(self, ctx: StepContext) -> str:
        return (
            "Choose the account you want to act for (your personal account, or a business account you own "
            "or were authorized on), or type its handle. The dashboard and your offers then use that account."
        )

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        accounts = all_accounts(ctx.state)
        active = ctx.state.get("active_account_id")
        shown = accounts[: ROWS_MAX - 1]
        rows = [Row.safe(a.account_id, a.account_name, describe(a, active)) for a in shown]
        body = "Which account do you want to act for?"
        if len(accounts) > len(shown):
            body += " Not all fit in this list: type the handle of any other one."
        return [
            ListMessage(body=body, button="Accounts", sections=[Section(title="Your accounts", rows=(*rows, BACK))])
        ]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        choice = text.strip().lstrip("@").lower()
        if choice in {"back", BACK.title.lower()}:
            return ValidationResult.success(outcome="back")
        for account in all_accounts(ctx.state):
            names = {account.account_id.lower(), account.account_name.lower(), (account.account_handle or "").lower()}
            if choice in names - {""}:
                return ValidationResult.success(account.account_id)
        return ValidationResult.failure(
            f"You have no account *{fit(text.strip(), 40)}*. Please choose one from the list."
        )

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        result = self.validate(ctx, text)
        if result.valid and result.outcome == "ok":
            stored = ctx.state.update_state({"active_account_id": result.value})
            if not stored.valid:
                return ValidationResult.failure("That account is not available right now. Type *menu* to reload.")
        return result


# -- business account -------------------------------------------------------------------------------------


def suggest_handle(name: str) -> str | None:
    """'Tendai's Hardware' → 'tendais_hardware', or None when nothing usable is left."""
    ascii_name = name.lower().replace("'", "").replace("’", "")
    handle = re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:HANDLE_MAX].rstrip("_")
    return handle if len(handle) >= HANDLE_MIN else None


class BusinessName(InputComponent):
    field = "account_name"

    def help(self, ctx: StepContext) -> str:
        return "Type the business's name as customers know it, like *Alice's Bakery*: 3 to 50 characters."

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        return [Text(body="What is the *name of the business*? (3 to 50 characters)")]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        name = " ".join(text.split())
        if not BUSINESS_NAME_MIN <= len(name) <= BUSINESS_NAME_MAX:
            return ValidationResult.failure(
                f"A business name is {BUSINESS_NAME_MIN} to {BUSINESS_NAME_MAX} characters long."
            )
        if not BUSINESS_NAME.match(name):
            return ValidationResult.failure(
                "A business name may contain letters, digits, spaces and & ' . , - ( ), "
                "starting with a letter or digit."
            )
        return ValidationResult.success(name)


class BusinessHandle(InputComponent):
    field = "account_handle"

    def help(self, ctx: StepContext) -> str:
        return (
            "A handle is the short name people type to send the business offers, like *alices_bakery*: 3 to 30 "
            "lowercase letters, digits or underscores, and not taken by another account."
        )

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        suggestion = suggest_handle(str(ctx.data.get("account_name", "")))
        example = f", for example *{suggestion}*" if suggestion else ""
        body = (
            "Choose a *handle* for the account: people type it to send offers. "
            f"3 to 30 lowercase letters, digits or underscores{example}."
        )
        return [Text(body=body)]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        return parse_handle(text)


class CheckHandle(ApiComponent):
    """getAccountByHandle before confirming: a taken handle is asked again now, not refused after Confirm."""

    outcomes = frozenset({"ok", "taken", "give_up"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        handle = str(ctx.data["account_handle"])
        try:
            await ctx.credex.get_account_by_handle(auth, handle)
        except CredexRejected as exc:
            if exc.status == 404:
                return ValidationResult.success()
            raise
        return missed(ctx, f"The handle *@{handle}* is taken. Please choose another one.", "taken")


class BusinessConfirm(ConfirmComponent):
    yes_title = "Create"

    def summary(self, ctx: StepContext) -> str:
        data = ctx.data
        body = (
            f"Open the business account *{data['account_name']}* (@{data['account_handle']}) "
            f"in {member_denom(ctx).value}? You will own it and can switch to it from the menu."
        )
        return fit(body, INTERACTIVE_BODY_MAX, field="business.summary")


class CreateBusiness(IntentWrite):
    """createAccount (BUSINESS), exactly once: after an unfinished try, a fresh dashboard says whether the
    account exists. A handle taken meanwhile goes back to the handle."""

    outcomes = frozenset({"ok", "taken"})
    operation = "createAccount"

    def identity(self, ctx: StepContext) -> list[Any]:
        return [ctx.data.get("account_handle")]

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        return {}

    def what(self, ctx: StepContext) -> str:
        return f"Opening *{ctx.data.get('account_name')}*"

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        if not (await refresh_dashboard(ctx, auth)).valid:
            return None
        return any(a.account_handle == ctx.data.get("account_handle") for a in all_accounts(ctx.state))

    def done(self, ctx: StepContext, intent: dict[str, Any]) -> ValidationResult:
        name = ctx.data.get("account_name")
        ctx.send(notice(f"✅ *{name}* is open. Choose *Switch account* in the menu to act for it."))
        return ValidationResult.success()

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        data = ctx.data
        try:
            response = await ctx.credex.create_account(
                auth,
                account_name=str(data["account_name"]),
                account_handle=str(data["account_handle"]),
                default_denom=member_denom(ctx),
                idempotency_key=ctx.operation_key("createAccount", str(data["account_handle"])),
            )
        except CredexRejected as exc:
            if exc.code == "DUPLICATE_HANDLE":
                ctx.send(notice(f"⚠️ {exc.message}. Please choose another handle."))
                return ValidationResult.failure(exc.message, outcome="taken")
            raise
        name = response.details.account_name or data["account_name"]
        ctx.send(notice(f"✅ *{name}* is open. Choose *Switch account* in the menu to act for it."))
        return ValidationResult.success()
