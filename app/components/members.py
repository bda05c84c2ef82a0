"""Who may act for a business account, and who receives its offers: authorize, remove, send offers to.

credex-core's contract has no call that lists an account's authorized members: the dashboard names only each
account's owner (the viewer, for an owned account) and its `sendOffersTo`. So the lists offer those members and
take anyone else by handle (getMemberByHandle turns it into a member id). credex-core itself refuses removing,
or sending offers to, someone who is not authorized; that refusal is shown and the list asked again. Keeping our
own roster instead would go stale whenever the account is changed elsewhere (another channel, the mobile app).

Flow data: `target` = {"handle", "member_id", "name"} of the member acted on; `misses` counts unknown handles.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from app.components.account import BACK, missed
from app.components.base import ApiComponent, ConfirmComponent, InputComponent, StepContext, notice
from app.components.handlers import active_account
from app.components.handles import parse_handle
from app.components.intents import IntentWrite
from app.credex import CredexAuth, CredexRejected
from app.credex.models import AccountType, DashboardAccount
from app.state.manager import StateManager
from app.state.results import ValidationResult
from app.whatsapp.messages import INTERACTIVE_BODY_MAX, ListMessage, OutboundMessage, Row, Section, Text, fit

NOT_BUSINESS = "This works on a business account you own: switch to one first (type *menu*)."
FIXABLE = frozenset({400, 404})
"""Refusals the person can fix by choosing someone else (not authorized, owner, unknown member)."""


def owned_business(state: StateManager) -> DashboardAccount | None:
    account = active_account(state)
    if account and account.account_type == AccountType.BUSINESS and account.is_owned_account is not False:
        return account
    return None


def target(handle: str | None = None, member_id: str | None = None, name: str = "") -> dict[str, Any]:
    """Always every key: a new choice must not inherit the id of an earlier one (flow data merges)."""
    return {"handle": handle, "member_id": member_id, "name": name}


def who(ctx: StepContext) -> str:
    t = ctx.data.get("target") or {}
    name, handle = t.get("name") or "", t.get("handle") or ""
    if name and handle:
        return f"{name} (@{handle})"
    return name or f"@{handle}"


def account_name(ctx: StepContext) -> str:
    account = owned_business(ctx.state)
    return account.account_name if account else "this account"


def own_handle(ctx: StepContext) -> str:
    return str(ctx.state.get("member").member_handle or "").lower()


class MemberHandle(InputComponent):
    """The handle of the member to authorize; looked up in the next step."""

    field = "target"
    takes_contact = True
    question: ClassVar[str] = "Type the *handle* of the member who may act for *{account}*."
    owner_allowed: ClassVar[bool] = False

    def help(self, ctx: StepContext) -> str:
        return (
            "Type the member's handle: for a person, their phone number, like *077 123 4567* or "
            "*+263 77 123 4567*. You can also share their contact card. You confirm before anything changes."
        )

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        return [Text.safe(self.question.format(account=account_name(ctx)))]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        parsed = parse_handle(text, "member handle", ctx.phone_region)
        if not parsed.valid:
            return parsed
        if not self.owner_allowed and parsed.value == own_handle(ctx):
            return ValidationResult.failure("That is you: as the owner you can act for this account already.")
        return ValidationResult.success(target(handle=parsed.value))


class SendToHandle(MemberHandle):
    question = "Type the *handle* of the authorized member who should receive *{account}*'s offers."
    owner_allowed = True


class FindMember(ApiComponent):
    """getMemberByHandle: an unknown handle is explained and asked again (up to three times)."""

    outcomes = frozenset({"ok", "unknown", "give_up"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        handle = str((ctx.data.get("target") or {}).get("handle") or "")
        try:
            response = await ctx.credex.get_member_by_handle(auth, handle)
        except CredexRejected as exc:
            if exc.status in FIXABLE:
                return missed(ctx, f"No member has the handle *@{handle}*. Check it and type it again.", "unknown")
            raise
        d = response.details
        ctx.put(target=target(d.member_handle, d.member_id, d.member_name))
        return ValidationResult.success()


class MemberPick(InputComponent):
    """A list of the members the dashboard names, plus any other member typed by handle."""

    field = "target"
    outcomes = frozenset({"picked", "lookup", "back"})
    question: ClassVar[str] = ""
    typed: ClassVar[str] = ""
    """What typing a handle does, said when there is nothing to list."""

    def known(self, ctx: StepContext) -> list[tuple[Row, dict[str, Any]]]:
        return []

    def more_rows(self, ctx: StepContext) -> list[Row]:
        return []

    takes_contact = True

    def help(self, ctx: StepContext) -> str:
        return "Choose a member from the list (or type their number in it), or type another member's handle."

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        account = account_name(ctx)
        rows = [row for row, _ in self.known(ctx)] + self.more_rows(ctx)
        if not rows:
            return [Text.safe(self.typed.format(account=account))]
        body = fit(self.question.format(account=account), INTERACTIVE_BODY_MAX, field="members.list")
        section = Section(title="Members", rows=(*rows, BACK))
        return [ListMessage(body=body, button="Members", sections=[section])]

    def pick(self, ctx: StepContext, choice: str) -> ValidationResult | None:
        """A listed row by id or title, or None."""
        for row, chosen in self.known(ctx):
            if choice in {row.id, row.title.lower()}:
                return ValidationResult.success(chosen, outcome="picked")
        return None

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        choice = text.strip().lower()
        if choice in {"back", BACK.title.lower()}:
            return ValidationResult.success(outcome="back")
        picked = self.pick(ctx, choice)
        if picked is not None:
            return picked
        parsed = parse_handle(text, "member handle", ctx.phone_region)
        if not parsed.valid:
            return ValidationResult.failure(f"{parsed.error} Or choose from the list.")
        return self.typed_handle(ctx, str(parsed.value))

    def typed_handle(self, ctx: StepContext, handle: str) -> ValidationResult:
        return ValidationResult.success(target(handle=handle), outcome="lookup")


def recipient(ctx: StepContext) -> tuple[str, str] | None:
    """(member id, name) of whoever receives the active account's offers now."""
    account = owned_business(ctx.state)
    ref = account.send_offers_to if account else None
    if ref is None:
        return None
    return ref.member_id, f"{ref.firstname} {ref.lastname}".strip() or "Current recipient"


class RemoveChoice(MemberPick):
    question = "Whose access to *{account}* do you want to remove? Choose, or type the handle of another member."
    typed = "Type the *handle* of the member who should no longer act for *{account}*."

    def known(self, ctx: StepContext) -> list[tuple[Row, dict[str, Any]]]:
        current, me = recipient(ctx), ctx.state.get_member_id()
        if current is None or current[0] == me:
            return []
        row = Row.safe("current", current[1], "Receives this account's offers now")
        return [(row, target(member_id=current[0], name=current[1]))]

    def typed_handle(self, ctx: StepContext, handle: str) -> ValidationResult:
        if handle == own_handle(ctx):
            return ValidationResult.failure("You own this account: the owner cannot be removed.")
        return super().typed_handle(ctx, handle)


class SendToChoice(MemberPick):
    outcomes = frozenset({"picked", "lookup", "other", "back"})
    question = "Who should receive the offers made to *{account}*? Only members authorized for it can."

    def known(self, ctx: StepContext) -> list[tuple[Row, dict[str, Any]]]:
        member = ctx.state.get("member")
        me = member.member_id or ""
        mine = f"{member.first_name} {member.last_name}".strip()
        current = recipient(ctx)
        now = " · receives offers now"
        rows = [
            (
                Row.safe("me", "You (owner)", f"{mine}{now if current and current[0] == me else ''}"),
                target(member.member_handle or None, me, mine),
            )
        ]
        if current and current[0] != me:
            rows.append((Row.safe("current", current[1], now.removeprefix(" · ")), target(None, *current)))
        return rows

    def more_rows(self, ctx: StepContext) -> list[Row]:
        return [Row(id="other", title="Another member", description="Type the handle of an authorized member")]

    def pick(self, ctx: StepContext, choice: str) -> ValidationResult | None:
        if choice in {"other", "another member"}:
            return ValidationResult.success(outcome="other")
        return super().pick(ctx, choice)


class AuthorizeConfirm(ConfirmComponent):
    yes_title = "Authorize"

    def summary(self, ctx: StepContext) -> str:
        body = f"Let *{who(ctx)}* act for *{account_name(ctx)}*? They will be able to make and answer its offers."
        return fit(body, INTERACTIVE_BODY_MAX, field="authorize.summary")


class RemoveConfirm(ConfirmComponent):
    yes_title = "Remove"

    def summary(self, ctx: StepContext) -> str:
        body = f"Remove *{who(ctx)}*'s access to *{account_name(ctx)}*? They will no longer be able to act for it."
        return fit(body, INTERACTIVE_BODY_MAX, field="remove.summary")


class SendToConfirm(ConfirmComponent):
    def summary(self, ctx: StepContext) -> str:
        body = f"Send the offers made to *{account_name(ctx)}* to *{who(ctx)}*?"
        return fit(body, INTERACTIVE_BODY_MAX, field="send_to.summary")


class MemberWrite(IntentWrite):
    """One account write per confirmation; a refusal the person can fix goes back to the choice ("retry").
    credex-core has no read that lists an account's members, so after an unfinished try the bot cannot tell
    whether it took effect: it never writes again, and says so ("could not confirm; check")."""

    outcomes = frozenset({"ok", "retry"})
    refusal_hint: ClassVar[str] = ""
    """Added to a fixable refusal: what the person can do about it."""

    def identity(self, ctx: StepContext) -> list[Any]:
        chosen = ctx.data.get("target") or {}
        return [ctx.state.get("active_account_id"), chosen.get("handle"), chosen.get("member_id")]

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        return {}

    def what(self, ctx: StepContext) -> str:
        return "This change"

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        account = owned_business(ctx.state)
        if account is None:
            return ValidationResult.failure(NOT_BUSINESS, outcome="rejected")
        chosen = ctx.data.get("target") or {}
        try:
            done = await self.apply(ctx, auth, account, chosen)
        except CredexRejected as exc:
            if exc.status not in FIXABLE:
                raise
            ctx.send(notice(f"⚠️ {exc.message}{self.refusal_hint}"))
            return ValidationResult.failure(exc.message, outcome="retry")
        ctx.send(notice(f"✅ {done}"))
        return ValidationResult.success()

    @abstractmethod
    async def apply(self, ctx: StepContext, auth: CredexAuth, account: DashboardAccount, chosen: dict[str, Any]) -> str:
        """Make the one write and say what it did."""


class Authorize(MemberWrite):
    operation = "authorizeForAccount"

    async def apply(self, ctx: StepContext, auth: CredexAuth, account: DashboardAccount, chosen: dict[str, Any]) -> str:
        handle = str(chosen["handle"])
        key = ctx.operation_key("authorizeForAccount", account.account_id, handle)
        await ctx.credex.authorize_for_account(auth, account.account_id, handle, idempotency_key=key)
        return f"*{who(ctx)}* can now act for *{account.account_name}*."


class Unauthorize(MemberWrite):
    operation = "unauthorizeForAccount"

    async def apply(self, ctx: StepContext, auth: CredexAuth, account: DashboardAccount, chosen: dict[str, Any]) -> str:
        member_id = str(chosen["member_id"])
        key = ctx.operation_key("unauthorizeForAccount", account.account_id, member_id)
        await ctx.credex.unauthorize_for_account(auth, account.account_id, member_id, idempotency_key=key)
        return f"*{who(ctx)}* can no longer act for *{account.account_name}*."


class SendOffersTo(MemberWrite):
    operation = "updateSendOffersTo"
    refusal_hint = " Authorize them first: menu, *Authorize member*."

    async def apply(self, ctx: StepContext, auth: CredexAuth, account: DashboardAccount, chosen: dict[str, Any]) -> str:
        member_id = str(chosen["member_id"])
        key = ctx.operation_key("updateSendOffersTo", account.account_id, member_id)
        response = await ctx.credex.update_send_offers_to(auth, account.account_id, member_id, idempotency_key=key)
        ref = response.details.send_offers_to
        name = f"{ref.firstname} {ref.lastname}".strip() or who(ctx)
        return f"Offers made to *{account.account_name}* now go to *{name}*."
