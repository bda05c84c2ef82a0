"""Reading an amount exactly as the person meant it: the number's separators and the currency around it.

Never a guess: a comma is a thousands separator only between groups of three digits (`5,000`, `1,250,000.50`) and a
dot is the decimal point. A form with another likely meaning is not read but asked about (`20,50` → "Did you mean
20.50 USD?", `1.500` → 1.50 or 1,500.00?, `1.250.000,50` → 1,250,000.50?); a form with no sensible meaning (`1,2,3`)
is refused with an example. Currency signs and words (`$5`, `US$20`, `5 dollars`, `ZiG 5`) name the denomination;
a currency credex does not have (`EUR 5`, `€5`, `5 rand`) is told so plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.credex.models_common import DECIMAL_PLACES, Denomination

SUPPORTED = ", ".join(d.value for d in (Denomination.USD, Denomination.ZWG, Denomination.CAD, Denomination.CXX))
SUPPORTED += f" and {Denomination.XAU.value}"
CURRENCY: dict[str, Denomination] = {
    **{d.value.lower(): d for d in Denomination},
    "$": Denomination.USD,
    "us$": Denomination.USD,
    "usd$": Denomination.USD,
    "dollar": Denomination.USD,
    "dollars": Denomination.USD,
    "us dollar": Denomination.USD,
    "us dollars": Denomination.USD,
    "usd dollars": Denomination.USD,
    "ca$": Denomination.CAD,
    "canadian dollar": Denomination.CAD,
    "canadian dollars": Denomination.CAD,
    "zig": Denomination.ZWG,
    "zigs": Denomination.ZWG,
}
"""What people put before or after the number for each denomination ('ZiG' is the common name of ZWG)."""
SYMBOLS = frozenset({"$", "us$", "usd$", "ca$"})
"""Signs that may stand with a code for the same denomination: `$5 USD` is natural, `USD 5 USD` is a slip."""
OTHER_CURRENCIES: dict[str, str] = {
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "r": "ZAR",
    "rand": "ZAR",
    "pula": "BWP",
    "naira": "NGN",
    "₦": "NGN",
    "kwacha": "ZMW",
    "shilling": "KES",
    "shillings": "KES",
    "ksh": "KES",
    "¥": "JPY",
    "yen": "JPY",
    "₹": "INR",
    "rupees": "INR",
    "bond": "ZWL",
    "rtgs": "ZWL",
}
"""Currencies people in the region name that credex does not offer; any other 3-letter code is caught as one too."""
MAXIMUM = Decimal("1000000")
"""The most one offer may carry, in any denomination."""

_SHAPE = re.compile(r"^(?P<pre>[^\d.,]*?)\s*(?P<num>\d[\d.,]*|[.,]\d[\d.,]*)\s*(?P<post>[^\d.,]*)$")
_PLAIN = re.compile(r"^(\d+(\.\d+)?|\.\d+)$")
_GROUP = r"[1-9]\d{0,2}"
_COMMA_GROUPS = re.compile(rf"^{_GROUP}(,\d{{3}})+(\.\d+)?$")
_DOT_GROUPS = re.compile(rf"^{_GROUP}(\.\d{{3}})+(,\d+)?$")
_DECIMAL_COMMA = re.compile(r"^\d*,\d+$")
_DOT_THREE = re.compile(rf"^{_GROUP}\.\d{{3}}$")


@dataclass(frozen=True)
class Reading:
    """Exactly one of: `value` (read for certain), `choices` (ask which was meant), `error` (say why not)."""

    value: tuple[Decimal, Denomination] | None = None
    choices: tuple[tuple[Decimal, Denomination], ...] = ()
    error: str | None = None


def unreadable(text: str) -> str:
    return (
        f"I could not read *{text.strip()[:40]}* as an amount. Use a dot for cents and a comma only between "
        "groups of three digits, like *20.50* or *5,000*."
    )


def read_amount(text: str, default: Denomination, maximum: Decimal | None = MAXIMUM) -> Reading:
    """One amount as typed at a prompt; `default` is the denomination when none is named. Candidates that credex
    would refuse (too many decimals) or that exceed `maximum` are never offered as choices."""
    raw = " ".join(text.strip().split())
    lowered = raw.lower()
    match = _SHAPE.match(lowered)
    if match is None:
        if re.search(r"\d\s*e\s*[+-]?\d", lowered) or lowered.lstrip("+-") in {"inf", "infinity", "nan"}:
            return Reading(error="Please type the amount as plain digits, like *20* or *20.50*.")
        return Reading(error=unreadable(raw))
    pre, post = match["pre"].strip(), match["post"].strip()
    if pre.endswith("-") or pre == "minus":
        return Reading(error="The amount must be more than zero.")
    denom = _denomination(pre, post, default)
    if not isinstance(denom, Denomination):  # a StrEnum is a str too: test for the enum
        return Reading(error=denom)
    values = _numbers(match["num"], DECIMAL_PLACES[denom])
    if values is None:
        return Reading(error=unreadable(raw))
    certain, candidates = values
    if certain is not None:
        problem = check(certain, denom, maximum)
        return Reading(error=problem) if problem else Reading(value=(certain, denom))
    fitting = tuple((v, denom) for v in candidates if check(v, denom, maximum) is None)
    if not fitting:
        return Reading(error=check(candidates[0], denom, maximum) or unreadable(raw))
    return Reading(choices=fitting)


def check(amount: Decimal, denom: Denomination, maximum: Decimal | None = MAXIMUM) -> str | None:
    """What credex-core would refuse about this amount (and our own per-offer maximum), in plain words."""
    if amount <= 0:
        return "The amount must be more than zero."
    places = DECIMAL_PLACES[denom]
    if not fits(amount, places):
        example = "20.50" if places == 2 else "1.2345"
        return f"{denom.value} amounts take at most {places} decimal places, like *{example}*."
    if maximum is not None and amount > maximum:
        return f"That is more than the maximum of {maximum:,} {denom.value} per offer."
    return None


def fits(amount: Decimal, places: int) -> bool:
    """True when the amount has no more than `places` significant decimals ('12.50' fits 2, '0.001' does not)."""
    return amount == amount.quantize(Decimal(1).scaleb(-places))


def _denomination(pre: str, post: str, default: Denomination) -> Denomination | str:
    """The denomination named around the number, or why it cannot be used."""
    named: list[tuple[str, Denomination]] = []
    for word in (pre, post):
        if not word:
            continue
        if word in CURRENCY:
            named.append((word, CURRENCY[word]))
            continue
        other = OTHER_CURRENCIES.get(word) or (word.upper() if re.fullmatch(r"[a-z]{3}", word) else None)
        if other is not None:
            return (
                f"Only {SUPPORTED} are supported, so I can't make an offer in *{other}*. "
                "Type the amount in one of those, like *20 USD*."
            )
        return f"I could not read *{word[:20]}* as a denomination. Type the amount like *20*, *20 USD* or *ZWG 5.50*."
    if len(named) == 2:
        (first, a), (second, b) = named
        if a is not b or not ({first, second} & SYMBOLS):
            return "Give the denomination once, like *20 USD*."
    return named[0][1] if named else default


def _numbers(num: str, places: int) -> tuple[Decimal | None, tuple[Decimal, ...]] | None:
    """(certain value, None) or (None, candidates to ask about), or None when the form means nothing sensible."""
    if _PLAIN.match(num):
        if _DOT_THREE.match(num) and places < 3 and fits(_decimal(num), places):
            return None, (_decimal(num), _decimal(num.replace(".", "")))  # '1.500': 1.50, or 1,500?
        return _decimal(num), ()
    if _COMMA_GROUPS.match(num):
        return _decimal(num.replace(",", "")), ()
    if _DOT_GROUPS.match(num):  # '1.250.000' or '1.250,50': dots grouping thousands, a decimal comma
        return None, (_decimal(num.replace(".", "").replace(",", ".")),)
    if _DECIMAL_COMMA.match(num):  # '20,50', '0,5': a decimal comma
        return None, (_decimal(num.replace(",", ".")),)
    return None


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # the patterns admit only digits and one dot: unreachable, but never a float
        return Decimal(0)
