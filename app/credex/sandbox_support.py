"""Sandbox building blocks: injectable clock and ids, denominations' precision and demo rates, the error type."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import ClassVar

from app.credex.models_common import DECIMAL_PLACES

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]
TokenFactory = Callable[[], str]

PRECISION = {d.value: places for d, places in DECIMAL_PLACES.items()}
"""Decimal places each denomination accepts; more is an invalid amount (one table with the bot: models_common)."""
USD_PER_UNIT = {
    "CXX": Decimal("1"),
    "CAD": Decimal("0.72"),
    "USD": Decimal("1"),
    "XAU": Decimal("2650"),
    "ZWG": Decimal("0.037"),
}
"""Fixed demo rates (sandbox only, not market data) for net assets and tier limits."""
TIER_DAILY_LIMIT_USD = {1: Decimal("10"), 2: Decimal("100")}
"""credex-core's daily issuing limits: tier 1 $10, tier 2 $100, tier 3 and up unlimited."""
ENTREPRENEUR_TIER = 3
MAX_AUTHORIZED = 5
MAX_DUE_DAYS = 35


class ManualClock:
    """A clock tests move by hand, so token expiry and due dates are deterministic."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class SequentialIds:
    """Deterministic UUID strings 00000000-0000-0000-0000-000000000001, ...: stable ids in tests."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def __call__(self) -> str:
        value, self._next = self._next, self._next + 1
        return str(uuid.UUID(int=value))


def utc_now() -> datetime:
    return datetime.now(UTC)


def quantize(amount: Decimal, denom: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-PRECISION[denom]), rounding=ROUND_HALF_EVEN)


def convert(amount: Decimal, src: str, dst: str) -> Decimal:
    return quantize(amount * USD_PER_UNIT[src] / USD_PER_UNIT[dst], dst)


def money(amount: Decimal, denom: str) -> str:
    """'12.50 USD', the way credex-core writes balances."""
    return f"{quantize(amount, denom):f} {denom}"


class SandboxError(Exception):
    """A credex-core refusal: HTTP status, human message, machine code (the envelope is built by the app)."""

    TYPES: ClassVar[dict[int, str]] = {
        400: "ERROR_VALIDATION",
        401: "ERROR_UNAUTHORIZED",
        403: "ERROR_UNAUTHORIZED",
        404: "ERROR_NOT_FOUND",
        409: "ERROR_VALIDATION",
        500: "ERROR_INTERNAL",
    }

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        *,
        field: str | None = None,
        action_type: str | None = None,
        malformed: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field
        self.action_type = action_type or self.TYPES.get(status, "ERROR_INTERNAL")
        self.malformed = malformed  # the request broke the schema (rather than a business rule)
