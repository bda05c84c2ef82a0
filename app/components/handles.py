"""Handles and denominations as people type them: one parser for every flow that asks for a handle."""

from __future__ import annotations

import re

from app.components.base import StepContext
from app.components.phones import looks_like_phone, phone_handle
from app.credex.models_common import HANDLE_PATTERN, Denomination
from app.state.results import ValidationResult

HANDLE = re.compile(HANDLE_PATTERN)
HANDLE_MIN, HANDLE_MAX = 3, 30
"""credex-core's handle pattern ^[a-z0-9_]{3,30}$ (shared/credex/openapi.json)."""


def normalize_handle(text: str, region: str = "ZW") -> str:
    """'@Bob ', '+263 77 000 0002', '0770000002': handles are lowercase, without '@'; a phone number is
    its international digits (a person's handle), read in `region` when typed without a country code."""
    phone = phone_handle(text, region)
    if phone is not None:
        return phone
    handle = text.strip().lstrip("@").lower()
    return handle[1:] if handle.startswith("+") and handle[1:].isdigit() else handle


def parse_handle(text: str, what: str = "handle", region: str = "ZW") -> ValidationResult:
    """'@Alices_Shop ' → 'alices_shop', '077 000 0002' → '263770000002'; a reason for anything credex-core
    would refuse."""
    if looks_like_phone(text) and phone_handle(text, region) is None:
        return ValidationResult.failure(
            "That phone number looks incomplete. Type it with the country code, like *+263 77 123 4567*, "
            "or as you dial it, like *077 123 4567*."
        )
    handle = normalize_handle(text, region)
    if not HANDLE_MIN <= len(handle) <= HANDLE_MAX:
        return ValidationResult.failure(
            f"A {what} is {HANDLE_MIN} to {HANDLE_MAX} characters long, like *263771234567* or *alices_shop*."
        )
    if not HANDLE.match(handle):
        return ValidationResult.failure(
            f"A {what} may contain only letters, digits and underscores (no spaces), like *alices_shop*."
        )
    return ValidationResult.success(handle)


def member_denom(ctx: StepContext) -> Denomination:
    """The member's default denomination; USD when credex-core named one we do not know."""
    denom = ctx.state.get("member").default_denom
    return Denomination(denom) if denom in {d.value for d in Denomination} else Denomination.USD
