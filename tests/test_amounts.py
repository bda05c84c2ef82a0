"""Amounts exactly as meant: every form people type, with the value it must give, the question it must ask, or
the refusal it must get. Pure: no bot, no state (the flows' use of it is in test_flow_amounts.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.components.amounts import MAXIMUM, read_amount
from app.credex.models_common import DECIMAL_PLACES, Denomination
from app.credex.sandbox_support import PRECISION

USD, ZWG, CAD, CXX, XAU = (Denomination(d) for d in ("USD", "ZWG", "CAD", "CXX", "XAU"))
SUPPORTED_ONLY = "Only USD, ZWG, CAD, CXX and XAU are supported"
UNREADABLE = "a comma only between groups of three digits"

# (typed, denomination when none is named, what it must be)
#   Decimal           read for certain, in the row's denomination or the one named
#   [Decimal, ...]    asked about: "Did you mean ...?" with these meanings, nothing guessed
#   str               refused: the reason must contain this
TABLE: list[tuple[str, Denomination, object, Denomination]] = [
    # plain numbers
    ("20", USD, Decimal("20"), USD),
    ("20.50", USD, Decimal("20.50"), USD),
    (".5", USD, Decimal("0.5"), USD),
    ("12.5", USD, Decimal("12.5"), USD),
    # thousands: a comma only between groups of three
    ("5,000", USD, Decimal("5000"), USD),
    ("1,500", USD, Decimal("1500"), USD),
    ("20,505", USD, Decimal("20505"), USD),
    ("1,250,000.50", USD, Decimal("1250000.50"), USD),
    ("5,000.5", USD, Decimal("5000.5"), USD),
    # decimal commas: asked, never multiplied (they used to become 2,050.00 / 550.00 / 5.00)
    ("20,50", USD, [Decimal("20.50")], USD),
    ("5,50", USD, [Decimal("5.50")], USD),
    ("0,5", USD, [Decimal("0.5")], USD),
    ("20,5", USD, [Decimal("20.5")], USD),
    (",5", USD, [Decimal("0.5")], USD),
    ("0,500", USD, [Decimal("0.5")], USD),
    ("1234,56", USD, [Decimal("1234.56")], USD),
    ("ZWG 7,25", USD, [Decimal("7.25")], ZWG),
    # dots grouping thousands, or a dot that could be either
    ("1.250,50", USD, [Decimal("1250.50")], USD),
    ("1.250.000", USD, [Decimal("1250000")], USD),
    ("1.250.000,50", USD, [Decimal("1250000.50")], USD),
    ("1.500", USD, [Decimal("1.5"), Decimal("1500")], USD),
    ("XAU 1.250", USD, Decimal("1.25"), XAU),  # gold takes 4 places: 1.250 grams is plain
    # no sensible meaning: refused with an example
    ("1,2,3", USD, UNREADABLE, USD),
    ("12,34,567", USD, UNREADABLE, USD),
    ("1,23.5", USD, UNREADABLE, USD),
    ("5 000", USD, UNREADABLE, USD),
    ("5 or 6", USD, UNREADABLE, USD),
    ("five", USD, UNREADABLE, USD),
    ("1e3", USD, "plain digits", USD),
    ("NaN", USD, "plain digits", USD),
    ("-5", USD, "more than zero", USD),
    ("0", USD, "more than zero", USD),
    ("0,00", USD, "more than zero", USD),
    # currency signs and words
    ("$5", ZWG, Decimal("5"), USD),
    ("$ 5", ZWG, Decimal("5"), USD),
    ("5$", ZWG, Decimal("5"), USD),
    ("US$20", ZWG, Decimal("20"), USD),
    ("us$ 20.50", ZWG, Decimal("20.50"), USD),
    ("5 dollars", ZWG, Decimal("5"), USD),
    ("1 dollar", ZWG, Decimal("1"), USD),
    ("5 US dollars", ZWG, Decimal("5"), USD),
    ("USD 5", ZWG, Decimal("5"), USD),
    ("usd5", ZWG, Decimal("5"), USD),
    ("5 usd", ZWG, Decimal("5"), USD),
    ("5USD", ZWG, Decimal("5"), USD),
    ("$5 USD", ZWG, Decimal("5"), USD),
    ("$1,250.50", ZWG, Decimal("1250.50"), USD),
    ("ZiG 5", USD, Decimal("5"), ZWG),
    ("5 zwg", USD, Decimal("5"), ZWG),
    ("CA$5", USD, Decimal("5"), CAD),
    ("5 canadian dollars", USD, Decimal("5"), CAD),
    ("USD 5 USD", USD, "Give the denomination once", USD),
    ("$5 ZWG", USD, "Give the denomination once", USD),
    ("5 bananas", USD, "as a denomination", USD),
    # currencies credex does not have: said plainly, with what is supported
    ("EUR 5", USD, f"{SUPPORTED_ONLY}, so I can't make an offer in *EUR*", USD),
    ("5 eur", USD, "*EUR*", USD),
    ("€5", USD, "*EUR*", USD),
    ("5 euros", USD, "*EUR*", USD),
    ("£5", USD, "*GBP*", USD),
    ("R50", USD, "*ZAR*", USD),
    ("50 rand", USD, "*ZAR*", USD),
    ("GBP 5", USD, "*GBP*", USD),
    ("ZWL 5", USD, "*ZWL*", USD),
    # precision per denomination, as credex-core enforces it
    ("12.345", USD, "USD amounts take at most 2 decimal places", USD),
    ("0.001", USD, "at most 2 decimal places", USD),
    ("12.500", XAU, Decimal("12.5"), XAU),
    ("CXX 0.01", USD, Decimal("0.01"), CXX),
    ("CXX 0.001", USD, "CXX amounts take at most 2 decimal places", CXX),
    ("CAD 0.125", USD, "CAD amounts take at most 2 decimal places", CAD),
    ("ZWG 5.5", USD, Decimal("5.5"), ZWG),
    ("XAU 1.2345", USD, Decimal("1.2345"), XAU),
    ("XAU 1.23456", USD, "XAU amounts take at most 4 decimal places", XAU),
    ("0,001", USD, "at most 2 decimal places", USD),  # the decimal-comma meaning is impossible: no question
]
"""Read without the per-offer maximum (checked in its own table below), so large forms show their exact value."""
MAXIMUM_TABLE: list[tuple[str, object]] = [
    ("1,000,000", Decimal("1000000")),
    ("1,000,000.01", "more than the maximum of 1,000,000 USD"),
    ("2000000", "more than the maximum"),
    ("1,250,000.50", "more than the maximum"),
    ("1.250.000", "more than the maximum"),  # a question never offers a meaning that would be refused
]


@pytest.mark.parametrize(("typed", "default", "expected", "denom"), TABLE, ids=[row[0] for row in TABLE])
def test_amount_table(typed: str, default: Denomination, expected: object, denom: Denomination) -> None:
    reading = read_amount(typed, default, maximum=None)
    if isinstance(expected, Decimal):
        assert reading.error is None and reading.choices == (), reading
        assert reading.value == (expected, denom)
        assert isinstance(reading.value[0], Decimal)
    elif isinstance(expected, list):
        assert reading.value is None and reading.error is None, reading
        assert reading.choices == tuple((v, denom) for v in expected)
    else:
        assert reading.value is None and not reading.choices, reading
        assert isinstance(expected, str) and reading.error is not None and expected in reading.error, reading


@pytest.mark.parametrize(("typed", "expected"), MAXIMUM_TABLE, ids=[row[0] for row in MAXIMUM_TABLE])
def test_the_per_offer_maximum(typed: str, expected: object) -> None:
    reading = read_amount(typed, USD, maximum=MAXIMUM)
    if isinstance(expected, Decimal):
        assert reading.value == (expected, USD)
    else:
        assert isinstance(expected, str) and reading.error is not None and expected in reading.error


def test_the_bot_and_the_sandbox_share_one_precision_table() -> None:
    assert PRECISION == {d.value: places for d, places in DECIMAL_PLACES.items()}
    assert set(DECIMAL_PLACES) == set(Denomination)
