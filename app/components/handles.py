"""Handles and denominations as people type them: one parser for every flow that asks for a handle."""

from __future__ import annotations

import re

from app.components.base import StepContext
from app.credex.models_common import HANDLE_PATTERN, Denomination
from app.state.results import ValidationResult

HANDLE = re.compile(HANDLE_PATTERN)
HANDLE_MIN, HANDLE_MAX = 3, 30
"""credex-core's handle pattern ^[a-z0-9_]{3,30}$ (shared/credex/openapi.json)."""


def normalize_handle(text: str) -> str:
    """'@Bob ', '+263770000002': handles are lowercase, without '@' (or the '+' of a phone number)."""
    handle = text.strip().lstrip("@").lower()
    return handle[1:] if handle.startswith("+") and handle[1:].isdigit() else handle


def parse_handle(text: str, what: str = "handle") -> ValidationResult:
    """'@Alices_Shop ' → 'alices_shop'; a reason for anything credex-core would refuse."""
    handle = normalize_handle(text)
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
