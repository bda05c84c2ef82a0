"""Login, onboarding and the dashboard load."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from app.components.base import (
    ApiComponent,
    ConfirmComponent,
    DisplayComponent,
    InputComponent,
    ReadOnlyState,
    StepContext,
)
from app.components.handlers import refresh_dashboard
from app.components.intents import IntentWrite
from app.credex import CredexAuth, CredexRejected
from app.credex.models_common import Denomination
from app.state.results import ValidationResult
from app.whatsapp.messages import Button, OutboundMessage, ReplyButtons, Text, fit

NAME = re.compile(r"^[^\W\d_]+(?:[ '\-’][^\W\d_]+)*$")
NAME_MIN, NAME_MAX = 3, 50
"""credex-core's onboardMember takes names of 3 to 50 characters (shared/credex/openapi.json)."""


class LoadDashboard(ApiComponent):
    """getMemberDashboardByPhone, stored through the dashboard handler."""

    outcomes = frozenset({"ok", "not_member", "no_phone"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        if not auth.token:
            return await Login().call(ctx, auth)
        try:
            stored = await refresh_dashboard(ctx, auth)
        except CredexRejected as exc:
            if exc.status == 404:
                return ValidationResult.success(outcome="not_member")
            raise
        return stored if not stored.valid else ValidationResult.success()


class Login(ApiComponent):
    """login with the channel's phone number; a number credex-core does not know goes to onboarding."""

    outcomes = frozenset({"ok", "not_member", "no_phone"})

    async def call(self, ctx: StepContext, auth: CredexAuth) -> ValidationResult:
        if ctx.state.get_phone() is None:  # a username instead of a number: ask for it (own_phone.py)
            return ValidationResult.success(outcome="no_phone")
        try:
            response = await ctx.credex.login(auth)
        except CredexRejected as exc:
            if exc.status in (400, 404):
                return ValidationResult.success(outcome="not_member")
            raise
        if response.details.member_id:
            ctx.state.update_state({"member": {"member_id": response.details.member_id}})
        stored = await refresh_dashboard(ctx, auth)
        return stored if not stored.valid else ValidationResult.success()


class NotMemberOffers(DisplayComponent):
    """A *View offers* tap from a number credex-core does not know: say so, then the welcome to join."""

    def render(self, view: ReadOnlyState) -> Sequence[OutboundMessage]:
        return [
            Text(
                body="That button shows the offers waiting for a credex member, and this number is not a member"
                " yet, so there are none to show."
            )
        ]


class Welcome(InputComponent):
    """The first message a stranger gets: what VimbisoPay is, and one button to join."""

    outcomes = frozenset({"ok"})
    hint = "Type help to learn more."

    def help(self, ctx: StepContext) -> str:
        return (
            "VimbisoPay lets you offer and accept credex (payments and promises to pay) on WhatsApp. Tap "
            "*Become a member* to join: I will ask your first and last name, and that is all."
        )

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        body = (
            "Welcome to *VimbisoPay* 👋\n\nWith credex you can offer and accept payments with anyone, "
            "secured by your balances. Become a member to get started."
        )
        return [ReplyButtons(body=body, buttons=[Button(id="join", title="Become a member")])]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        if text.strip().lower() in {"join", "become a member", "yes", "start"}:
            return ValidationResult.success()
        return ValidationResult.failure("Tap *Become a member* to join.")


class NameInput(InputComponent):
    label: ClassVar[str] = "name"

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        return [Text(body=f"What is your *{self.label}*? (at least {NAME_MIN} letters)")]

    def help(self, ctx: StepContext) -> str:
        return (
            f"Type your {self.label} as you want it on your account, like *Tariro*. credex needs at least "
            f"{NAME_MIN} letters for each name; you will see the whole name before anything is registered."
        )

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        name = " ".join(text.split())
        if len(name) < NAME_MIN:
            return ValidationResult.failure(
                f"credex needs a {self.label} of at least {NAME_MIN} letters, and *{fit(name, 20)}* has "
                f"{len(name)}. If yours is shorter, type it with another of your names, like *Jo Anne*."
            )
        if len(name) > NAME_MAX:
            return ValidationResult.failure(f"Your {self.label} can be at most {NAME_MAX} characters long.")
        if not NAME.match(name):
            return ValidationResult.failure(
                f"Your {self.label} may contain only letters, spaces, hyphens and apostrophes."
            )
        return ValidationResult.success(name)


class FirstName(NameInput):
    label = "first name"
    field = "first_name"


class LastName(NameInput):
    label = "last name"
    field = "last_name"


class ConfirmName(ConfirmComponent):
    """The whole name before onboardMember: a name typed wrong (or a button read as one) is fixed here."""

    yes_title = "Yes, register me"
    no_title = "Change name"

    def summary(self, ctx: StepContext) -> str:
        name = fit(f"{ctx.data.get('first_name', '')} {ctx.data.get('last_name', '')}".strip(), 110)
        return f"You will be registered as *{name}*. Is that correct?"

    def help(self, ctx: StepContext) -> str:
        return f"Tap *{self.yes_title}* to open your account with this name, or *{self.no_title}* to type it again."


class Onboard(IntentWrite):
    """onboardMember with USD as the default denomination, then the new member's dashboard; exactly once:
    after an unfinished try, a login says whether the member exists."""

    operation = "onboardMember"

    def identity(self, ctx: StepContext) -> list[Any]:
        return [ctx.data.get("first_name"), ctx.data.get("last_name")]

    def intent(self, ctx: StepContext) -> dict[str, Any]:
        return {}

    def what(self, ctx: StepContext) -> str:
        return "Your registration"

    async def happened(self, ctx: StepContext, auth: CredexAuth, intent: dict[str, Any]) -> bool | None:
        try:
            response = await ctx.credex.login(auth)
        except CredexRejected as exc:
            return False if exc.status in (400, 404) else None
        if response.details.member_id:
            ctx.state.update_state({"member": {"member_id": response.details.member_id}})
        return True

    def done(self, ctx: StepContext, intent: dict[str, Any]) -> ValidationResult:
        ctx.send(Text.safe(f"🎉 Welcome, {ctx.data.get('first_name')}! Your account is ready."))
        return ValidationResult.success()

    async def write(self, ctx: StepContext, auth: CredexAuth, key: str) -> ValidationResult:
        data = ctx.data
        response = await ctx.credex.onboard_member(
            auth,
            firstname=data["first_name"],
            lastname=data["last_name"],
            default_denom=Denomination.USD,
            idempotency_key=ctx.operation_key("onboardMember"),
        )
        ctx.state.update_state({"member": {"member_id": response.details.member_id}})
        stored = await refresh_dashboard(ctx, auth)
        if stored.valid:
            ctx.send(Text.safe(f"🎉 Welcome, {data['first_name']}! Your account is ready."))
        return stored if not stored.valid else ValidationResult.success()


def member_name(view: ReadOnlyState) -> str:
    member = view.get("member")
    return f"{member.first_name} {member.last_name}".strip()
