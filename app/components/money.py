"""Amounts as people type them, parsed into Decimal (never float) with a reason for every refusal."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from app.credex.models_common import Denomination
from app.state.results import ValidationResult

PRECISION = {
    Denomination.USD: 2,
    Denomination.CAD: 2,
    Denomination.ZWG: 2,
    Denomination.CXX: 3,
    Denomination.XAU: 4,
}
"""Decimal places each denomination accepts (gold in grams to 4 places, CXX to 3, currencies to cents)."""
MAXIMUM = Decimal("1000000")
DENOMS = "|".join(d.value for d in Denomination)
_AMOUNT = re.compile(rf"^(?:(?P<d1>{DENOMS})\s*)?(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)(?:\s*(?P<d2>{DENOMS}))?$")


def parse_amount(text: str, default: Denomination = Denomination.USD) -> ValidationResult:
    """'20', '20 USD', 'USD 20', 'ZWG 5.5'; value is (Decimal, Denomination)."""
    raw = " ".join(text.strip().upper().split())
    match = _AMOUNT.match(raw)
    if match is None:
        if re.search(r"[0-9]E[+-]?[0-9]", raw) or raw.lstrip("+-") in {"INF", "INFINITY", "NAN"}:
            return ValidationResult.failure("Please type the amount as plain digits, like *20* or *20.50*.")
        if raw.startswith("-"):
            return ValidationResult.failure("The amount must be more than zero.")
        return ValidationResult.failure(
            f"I could not read *{text.strip()[:40]}* as an amount. Type it like *20*, *20 USD* or *ZWG 5.50*."
        )
    if match["d1"] and match["d2"]:
        return ValidationResult.failure("Give the denomination once, like *20 USD*.")
    denom = Denomination(match["d1"] or match["d2"] or default)
    try:
        amount = Decimal(match["num"].replace(",", ""))
    except InvalidOperation:
        return ValidationResult.failure("Please type the amount as plain digits, like *20*.")
    if amount <= 0:
        return ValidationResult.failure("The amount must be more than zero.")
    places = PRECISION[denom]
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return ValidationResult.failure(f"{denom.value} amounts take at most {places} decimal places.")
    if amount > MAXIMUM:
        return ValidationResult.failure(f"That is more than the maximum of {MAXIMUM:,} per offer.")
    return ValidationResult.success((amount, denom))


def format_amount(amount: Decimal, denomination: str) -> str:
    places = PRECISION.get(Denomination(denomination), 2) if denomination in DENOMS.split("|") else 2
    return f"{amount:,.{places}f} {denomination}"
