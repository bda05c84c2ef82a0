"""Amounts for the flows: read (see amounts.py for how), as flow data, and written back the way credex writes them."""

from __future__ import annotations

from decimal import Decimal

from app.components.amounts import MAXIMUM, read_amount
from app.credex.models_common import DECIMAL_PLACES, Denomination
from app.state.results import ValidationResult

__all__ = ["ASK", "MAXIMUM", "PRECISION", "choices_of", "format_amount", "parse_amount"]

PRECISION = DECIMAL_PLACES
"""Decimal places each denomination accepts (gold in grams to 4 places, everything else to cents)."""
ASK = "ask"
"""The outcome of an amount that could mean more than one thing: the person is asked, nothing is guessed."""


def parse_amount(text: str, default: Denomination = Denomination.USD) -> ValidationResult:
    """Valid: value (Decimal, Denomination). Valid with outcome ASK: `choices` [[amount, denomination], ...] as
    flow data (strings), to ask about. Invalid: why, in words the person can act on."""
    reading = read_amount(text, default)
    if reading.error is not None:
        return ValidationResult.failure(reading.error)
    if reading.value is not None:
        return ValidationResult.success(reading.value)
    return ValidationResult.success(outcome=ASK, choices=[[str(v), d.value] for v, d in reading.choices])


def choices_of(raw: object) -> list[tuple[Decimal, Denomination]]:
    """The choices kept in flow data, back as exact values (anything malformed is dropped, never guessed)."""
    found: list[tuple[Decimal, Denomination]] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, list) and len(item) == 2 and item[1] in Denomination.__members__:
                found.append((Decimal(str(item[0])), Denomination(item[1])))
    return found


def format_amount(amount: Decimal, denomination: str) -> str:
    places = PRECISION.get(Denomination(denomination), 2) if denomination in Denomination.__members__ else 2
    return f"{amount:,.{places}f} {denomination}"
