"""Phone numbers as people type them: '+263 77 000 0002', '077-000-0002', '(077) 000 0002', '00263770000002'.

libphonenumber (the `phonenumbers` package) knows every country's numbering plan, so a local number typed
without its country code is read in DEFAULT_PHONE_REGION instead of being refused. The result is what credex-core
uses as a person's handle: the international number in digits, without '+'.
"""

from __future__ import annotations

import re

import phonenumbers

PHONE_LIKE = re.compile(r"^\+?\(?[0-9][0-9 ()\-.]{1,24}$")
"""Digits with the separators people type."""


def _digits(number: phonenumbers.PhoneNumber) -> str | None:
    if not phonenumbers.is_possible_number(number):
        return None
    return f"{number.country_code}{number.national_number}"


def _parse(text: str, region: str | None) -> str | None:
    try:
        return _digits(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        return None


def looks_like_phone(text: str) -> bool:
    stripped = text.strip()
    if not PHONE_LIKE.match(stripped):
        return False
    separated = stripped.startswith("+") or any(c in stripped for c in " ()-.")
    return separated or sum(c.isdigit() for c in stripped) >= 6  # a short all-digit text may be a handle


def phone_handle(text: str, region: str) -> str | None:
    """The number as a handle ('263770000002'), or None when it cannot be a phone number."""
    raw = text.strip()
    if not looks_like_phone(raw):
        return None
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+"):
        return _parse("+" + digits, None)
    if digits.startswith("00"):
        return _parse("+" + digits[2:], None)
    if digits.startswith("0"):
        return _parse(digits, region)
    # Digits that already start with a country code (how handles are written), else a local number
    # typed without its leading 0 ('77 000 0002').
    international = _parse("+" + digits, None)
    if international is not None and phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None)):
        return international
    local = _parse(digits, region)
    if local is not None and phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
        return local
    return international or digits
