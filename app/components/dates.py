"""Due dates for unsecured credex: strictly YYYY-MM-DD, in the future, at most five weeks out."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.state.results import ValidationResult

DEFAULT_DUE = timedelta(weeks=4)
MAX_DUE = timedelta(weeks=5)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def default_due(today: date) -> date:
    return today + DEFAULT_DUE


def parse_due_date(text: str, today: date) -> ValidationResult:
    raw = text.strip()
    if not _ISO.match(raw):
        return ValidationResult.failure("Type the due date as YYYY-MM-DD, for example *2026-12-24*.")
    try:
        due = date.fromisoformat(raw)
    except ValueError:
        return ValidationResult.failure(f"{raw} is not a date in the calendar.")
    if due <= today:
        return ValidationResult.failure("The due date must be in the future.")
    if due > today + MAX_DUE:
        return ValidationResult.failure(f"The due date can be at most 5 weeks away ({(today + MAX_DUE).isoformat()}).")
    return ValidationResult.success(due)
