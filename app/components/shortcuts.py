"""One-line offers typed at the menu: `0.5=>handle` (secured), `0.5->handle` or `0.5->handle=2026-12-24`."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from app.components.dates import default_due, parse_due_date
from app.components.handles import normalize_handle
from app.components.money import ASK, PRECISION, choices_of, format_amount, parse_amount
from app.credex.models_common import Denomination
from app.state.results import ValidationResult

SHORTCUT = re.compile(r"^\s*(?P<amount>[^=\->]+?)\s*(?P<arrow>=>|->)\s*(?P<handle>[^=\s]+)\s*(?:=\s*(?P<due>\S+))?\s*$")


def looks_like_shortcut(text: str) -> bool:
    return "=>" in text or "->" in text


def _ask(typed: str, arrow: str, handle: str, amount: ValidationResult, default: Denomination) -> str:
    choices = choices_of(amount.details.get("choices"))
    meant = " or ".join(f"*{format_amount(v, d.value)}*" for v, d in choices)
    value, denom = choices[0]
    exact = value.quantize(Decimal(1).scaleb(-PRECISION[denom]))  # '1.50', never the ambiguous form again
    plain = f"{exact:f}" + ("" if denom is default else f" {denom.value}")
    return (
        f"*{typed.strip()[:40]}* could mean {meant}, so nothing was started. Type the shortcut again with a dot for "
        f"cents, like *{plain}{arrow}{handle[:30]}*."
    )


def parse_shortcut(
    text: str, today: date, default: Denomination = Denomination.USD, region: str = "ZW"
) -> ValidationResult:
    """Valid: value is the offer's flow data (amount as a string, never a float)."""
    match = SHORTCUT.match(text)
    if match is None:
        return ValidationResult.failure("Shortcuts look like *5=>handle* (secured) or *5->handle=2026-12-24*.")
    secured = match["arrow"] == "=>"
    if secured and match["due"]:
        return ValidationResult.failure("A secured offer has no due date: use *->* for an unsecured one.")
    amount = parse_amount(match["amount"], default)
    if not amount.valid:
        return amount
    if amount.outcome == ASK:  # never guessed: the person types the shortcut again with the amount they meant
        return ValidationResult.failure(_ask(match["amount"], match["arrow"], match["handle"], amount, default))
    value, denomination = amount.value
    due = None
    if not secured:
        if match["due"]:
            parsed = parse_due_date(match["due"], today)
            if not parsed.valid:
                return parsed
            due = parsed.value
        else:
            due = default_due(today)
    data = {
        "amount": str(value),
        "denomination": denomination.value,
        "handle": normalize_handle(match["handle"], region),
        "secured": secured,
        "due_date": due.isoformat() if due else None,
    }
    return ValidationResult.success(data)
