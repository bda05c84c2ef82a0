"""JSON in and out with Decimal money: floats never appear between credex-core and the bot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact Decimal."""
    return json.loads(raw, parse_float=Decimal)


def decimal_text(value: Decimal) -> str:
    """Plain positional notation (no exponent), the way amounts are written in JSON and in messages."""
    if not value.is_finite():
        raise ValueError(f"non-finite amount {value!r}")
    return format(value, "f")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        raise TypeError("float in a credex payload: use Decimal")
    if isinstance(value, Enum):
        return _encode(value.value)
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return json.dumps(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """Serialize with Decimals as JSON numbers written exactly (never through float)."""
    return _encode(value).encode()
