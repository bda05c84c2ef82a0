"""How much an offer is for: the amount prompt, and the question asked when an amount could mean two things.

Flow data: amount, denomination (once read for certain and within what the dashboard shows can be offered);
amount_choices [[amount, denomination], ...] and amount_nonce while a "Did you mean ...?" is open.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from decimal import Decimal

from app.components.base import AWAIT, EARLIER_BUTTON, YES_WORDS, InputComponent, StepContext, notice, with_hint
from app.components.dates import default_due
from app.components.handles import member_denom
from app.components.limits import offer_problem
from app.components.money import ASK, choices_of, format_amount, parse_amount
from app.components.offers import UNSECURED_WORDS, a_kind, amount_text, secured_balance
from app.credex.models_common import Denomination
from app.state.results import ValidationResult
from app.whatsapp.messages import Button, OutboundMessage, ReplyButtons, Text


def store_amount(ctx: StepContext, amount: Decimal, denom: Denomination) -> ValidationResult:
    """Keep an amount read for certain, once the dashboard shows it can be offered (else say what can)."""
    problem = offer_problem(ctx.state, amount, denom, bool(ctx.data.get("secured")))
    if problem is not None:
        return ValidationResult.failure(problem)
    stored = ctx.put(amount=str(amount), denomination=denom.value, amount_choices=None)
    return stored if not stored.valid else ValidationResult.success((amount, denom))


def take_amount(ctx: StepContext, result: ValidationResult) -> ValidationResult:
    """A parsed answer: kept, refused, or (outcome ASK) its possible meanings kept for AmountCheck to ask about."""
    if not result.valid:
        return result
    if result.outcome == ASK:
        stored = ctx.put(amount_choices=result.details["choices"])
        return stored if not stored.valid else ValidationResult.success(outcome=ASK)
    amount, denom = result.value
    return store_amount(ctx, amount, denom)


class OfferAmount(InputComponent):
    """How much, in which denomination (the member's default when none is typed)."""

    outcomes = frozenset({"ok", ASK})

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        secured = bool(ctx.data.get("secured"))
        lines = [f"How much do you want to offer as {a_kind(ctx.data)}?"]
        if secured:
            have = secured_balance(ctx)
            lines.append(f"Your secured balance: {', '.join(have) or 'none yet'}.")
            if not have:
                lines.append("A secured offer needs a secured balance: type *unsecured* to make it unsecured.")
        lines.append(f"Type it like *20* ({member_denom(ctx).value}), *20 USD* or *ZWG 5.50*.")
        return [Text.safe("\n".join(lines))]

    def help(self, ctx: StepContext) -> str:
        text = (
            f"Type the amount to offer, like *20* (in {member_denom(ctx).value}), *20 USD* or *ZWG 5.50*. "
            "Only the amount: I ask who it is for next."
        )
        if ctx.data.get("secured"):
            text += " A secured offer comes from your secured balance; type *unsecured* to promise to pay later."
        return text

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        return parse_amount(text, member_denom(ctx))

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        if ctx.data.get("secured") and " ".join(text.lower().split()) in UNSECURED_WORDS:
            return self._unsecured(ctx)
        return take_amount(ctx, self.validate(ctx, text))

    def _unsecured(self, ctx: StepContext) -> ValidationResult:
        """The same offer, unsecured, due in 4 weeks (the confirmation shows the date; Don't send still sends
        nothing). Without an amount yet, the amount is asked again, now for an unsecured credex."""
        ctx.put(secured=False)
        if ctx.data.get("amount") and ctx.data.get("receiver_account_id"):
            ctx.put(due_date=default_due(ctx.now().date()).isoformat())
            ctx.send(notice(f"OK, an *unsecured* offer of {amount_text(ctx.data)}, due in 4 weeks."))
            return ValidationResult.success(outcome="ok")
        ctx.send(*with_hint(self.prompt(ctx), self.hint))
        return ValidationResult.success(outcome=AWAIT)


class AmountCheck(InputComponent):
    """An amount that could mean more than one thing ('20,50', '1.500'): "Did you mean ...?" with a button per
    meaning (nonce-bound, like a confirmation's), or the amount typed again. Nothing is guessed."""

    outcomes = frozenset({"ok", "no", ASK})

    async def enter(self, ctx: StepContext) -> ValidationResult:
        ctx.put(amount_nonce=secrets.token_hex(4))
        return await super().enter(ctx)

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        choices = choices_of(ctx.data.get("amount_choices"))
        nonce = ctx.data.get("amount_nonce")
        shown = [format_amount(v, d.value) for v, d in choices]
        if not shown:  # flow data without choices: ask plainly again rather than guess
            return [Text(body="Please type the amount again, like *20.50*. Type *menu* to leave.")]
        if len(shown) == 1:
            body = (
                f"Did you mean *{shown[0]}*?\nTap *Yes*, or type the amount again with a dot for cents, "
                "like *20.50*. Type *menu* to leave."
            )
            found = [Button(id=f"pick1:{nonce}", title="Yes"), Button(id=f"retype:{nonce}", title="No")]
        else:
            body = (
                f"Did you mean *{shown[0]}* or *{shown[1]}*?\nTap the one you meant, or type the amount again. "
                "Type *menu* to leave."
            )
            found = [Button.safe(f"pick{n}:{nonce}", title) for n, title in enumerate(shown, 1)]
        return [ReplyButtons(body=body, buttons=found)]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        return parse_amount(text, member_denom(ctx))

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        choices = choices_of(ctx.data.get("amount_choices"))
        answer = " ".join(text.lower().split())
        word, colon, nonce = answer.partition(":")
        if colon and (word.startswith("pick") or word == "retype"):
            if nonce != ctx.data.get("amount_nonce"):
                return ValidationResult.failure(EARLIER_BUTTON)
            answer = word
        picked = _picked(answer, choices)
        if picked is not None:
            problem = offer_problem(ctx.state, *picked, bool(ctx.data.get("secured")))
            if problem is not None:  # not a wrong answer: the meaning is settled, the amount is too much
                ctx.send(notice(f"⚠️ {problem}"))
                return ValidationResult.success(outcome="no")
            return store_amount(ctx, *picked)
        if answer in ("no", "n", "retype"):
            return ValidationResult.success(outcome="no")
        if answer in YES_WORDS:
            return ValidationResult.failure("Please tap the amount you meant, or type it again.")
        return take_amount(ctx, self.validate(ctx, text))


def _picked(answer: str, choices: list[tuple[Decimal, Denomination]]) -> tuple[Decimal, Denomination] | None:
    """The meaning chosen: a button, a row number, 'yes' to a single meaning, or its title typed by hand."""
    index: int | None = None
    if answer.startswith("pick") and answer[4:].isdigit():
        index = int(answer[4:]) - 1
    elif len(choices) > 1 and answer.isdigit():
        index = int(answer) - 1
    elif len(choices) == 1 and answer in YES_WORDS:
        index = 0
    else:
        titles = [format_amount(v, d.value).lower() for v, d in choices]
        index = titles.index(answer) if answer in titles else None
    return choices[index] if index is not None and 0 <= index < len(choices) else None
