"""What the person can offer right now, from the dashboard credex-core last sent: checked when the amount is typed,
so an offer credex-core would refuse never reaches *Sign and send*.

- secured: the secured balance in that denomination, less what pending secured offers already promise (credex-core
  refuses to promise the same value twice);
- any offer from an account the member owns, below tier 3: the daily limit left (`remainingAvailableUSD`). It is in
  USD and credex-core converts other denominations at rates the bot does not have, so only USD amounts are checked
  here; credex-core still has the last word on every offer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.components.handlers import active_account
from app.components.money import format_amount
from app.credex.models_common import Denomination

LEAVE = "Type a smaller amount, or *menu* to leave."


def offer_problem(state: Any, amount: Decimal, denom: Denomination, secured: bool, then: str = LEAVE) -> str | None:
    """Why this amount cannot be offered now, saying what can be and `then` what to do; None when the dashboard
    sees no problem."""
    bounds: list[tuple[Decimal, str]] = []
    if secured:
        bound = _secured_room(state, denom, then)
        if bound is not None:
            bounds.append(bound)
    daily = _daily_room(state, denom, then)
    if daily is not None:
        bounds.append(daily)
    exceeded = [b for b in bounds if amount > b[0]]
    return min(exceeded, key=lambda b: b[0])[1] if exceeded else None


def _secured_room(state: Any, denom: Denomination, then: str) -> tuple[Decimal, str] | None:
    account = active_account(state)
    if account is None:
        return None
    default = account.default_denom
    held = sum(
        (m.amount for m in account.balances.secured_net_balances_by_denom if (m.denomination or default) == denom),
        Decimal(0),
    )
    promised = sum(
        (
            o.amount
            for o in account.pending_offers.outgoing
            if o.secured and o.amount is not None and (o.denomination or default) == denom
        ),
        Decimal(0),
    )
    room = max(held - promised, Decimal(0))
    if room <= 0:
        why = (
            f"all of your secured {denom.value} balance is promised in offers waiting to be accepted"
            if held > 0
            else f"you have no secured {denom.value} balance"
        )
        return room, (
            f"You can't offer a secured credex in {denom.value} right now: {why}. You can make an unsecured "
            "offer instead (menu, *Offer unsecured*). Type *menu* to leave."
        )
    if promised > 0:
        detail = (
            f"your secured balance is {format_amount(held, denom)}, and {format_amount(promised, denom)} of it is "
            "promised in offers waiting to be accepted"
        )
    else:
        detail = "that is your secured balance"
    return room, f"You can offer at most *{format_amount(room, denom)}* secured right now ({detail}). {then}"


def _daily_room(state: Any, denom: Denomination, then: str) -> tuple[Decimal, str] | None:
    member = state.get("member")
    account = active_account(state)
    remaining = member.remaining_available_usd if member is not None else None
    if remaining is None or denom is not Denomination.USD or account is None or account.is_owned_account is False:
        return None
    if remaining <= 0:
        return remaining, "You have used all of today's offer limit. It renews at midnight UTC. Type *menu* to leave."
    left = format_amount(remaining, "USD")
    return remaining, f"Your daily limit has *{left}* left today (it renews at midnight UTC). {then}"
