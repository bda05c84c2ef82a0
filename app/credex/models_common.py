"""Shared pieces of the credex-core models: enums, money parsing, the response envelope, request base.

Every response is `{"message", "data": {"action": {id, type, timestamp, actor, details}, "dashboard"}}`;
`ApiResponse[Details, Dashboard]` models that once so each endpoint only declares what it needs.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

PHONE_PATTERN = r"^\+?[1-9]\d{1,14}$"
HANDLE_PATTERN = r"^[a-z0-9_]{3,30}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class Denomination(StrEnum):
    CXX = "CXX"
    CAD = "CAD"
    USD = "USD"
    XAU = "XAU"
    ZWG = "ZWG"


DECIMAL_PLACES: dict[Denomination, int] = {
    Denomination.CXX: 2,
    Denomination.CAD: 2,
    Denomination.USD: 2,
    Denomination.XAU: 4,
    Denomination.ZWG: 2,
}
"""Decimal places credex-core takes per denomination; more is INVALID_AMOUNT. The contract is silent on this: these are
the rules the sandbox enforces as credex-core does (gold in grams to 4 places, everything else to cents)."""


class CredexType(StrEnum):
    PURCHASE = "PURCHASE"
    GIFT = "GIFT"
    DCO_GIVE = "DCO_GIVE"
    DCO_RECEIVE = "DCO_RECEIVE"


class OffersOrRequests(StrEnum):
    OFFERS = "OFFERS"
    REQUESTS = "REQUESTS"


class AccountType(StrEnum):
    PERSONAL = "PERSONAL"
    BUSINESS = "BUSINESS"
    CREDEX_FOUNDATION = "CREDEX_FOUNDATION"
    TRUST = "TRUST"
    OPERATIONS = "OPERATIONS"


class TemplateType(StrEnum):
    REGULAR = "REGULAR"
    DCO_GIVE = "DCO_GIVE"
    MEMBERTIER_SUBSCRIPTION = "MEMBERTIER_SUBSCRIPTION"


Phone = Annotated[str, Field(pattern=PHONE_PATTERN)]
Handle = Annotated[str, Field(pattern=HANDLE_PATTERN)]
UUIDStr = Annotated[str, Field(pattern=UUID_PATTERN)]

_MONEY = re.compile(
    r"^\s*(?P<sign>[-+])?\s*[$]?\s*(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<denom>[A-Z]{3})?\s*$"
)


class Money(BaseModel):
    """An exact amount with its denomination (None when the server wrote a bare number)."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    denomination: str | None = None

    def __str__(self) -> str:
        return f"{self.amount} {self.denomination}" if self.denomination else str(self.amount)


def parse_money(value: Any) -> Any:
    """Read '1,234.56 USD', '-10.00 USD', '$2.58' or a bare number; anything else is left for pydantic to refuse."""
    if isinstance(value, Money | dict):
        return value
    if isinstance(value, Decimal | int):
        return Money(amount=Decimal(value))
    if isinstance(value, float):
        return Money(amount=Decimal(str(value)))
    if isinstance(value, str) and (m := _MONEY.match(value)):
        try:
            amount = Decimal(m["num"].replace(",", ""))
        except InvalidOperation:
            return value
        return Money(amount=-amount if m["sign"] == "-" else amount, denomination=m["denom"])
    return value


def _amount(value: Any) -> Any:
    parsed = parse_money(value)
    return parsed.amount if isinstance(parsed, Money) else parsed


MoneyText = Annotated[Money, BeforeValidator(parse_money)]
"""A money string such as '100.00 USD' parsed into an exact Money."""
Amount = Annotated[Decimal, BeforeValidator(_amount)]
"""An amount sent as a JSON number or a (possibly formatted) string, parsed exactly."""


class CredexModel(BaseModel):
    """Response side: unknown fields are ignored, camelCase names are the contract's."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CredexRequest(BaseModel):
    """Request side: exactly the contract's fields, serialized by alias, absent optionals left out."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def payload(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


D = TypeVar("D")
B = TypeVar("B")

Untyped = dict[str, Any] | None
"""A dashboard (or other object) the bot does not read: accepted whatever its shape, even absent."""


class ApiAction(CredexModel, Generic[D]):
    id: str | None = None
    type: str = ""
    timestamp: datetime | None = None
    actor: str | None = None
    details: D

    @model_validator(mode="before")
    @classmethod
    def _details_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("details") is None:
            return {**data, "details": {}}
        return data


class ApiData(CredexModel, Generic[D, B]):
    action: ApiAction[D]
    dashboard: B

    @model_validator(mode="before")
    @classmethod
    def _dashboard_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "dashboard" not in data:
            return {**data, "dashboard": None}
        return data


class ApiResponse(CredexModel, Generic[D, B]):
    """The credex-core envelope; `details` and `dashboard` are shortcuts into it."""

    message: str = ""
    data: ApiData[D, B]

    @property
    def action(self) -> ApiAction[D]:
        return self.data.action

    @property
    def details(self) -> D:
        return self.data.action.details

    @property
    def dashboard(self) -> B:
        return self.data.dashboard
