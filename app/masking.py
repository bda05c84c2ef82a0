"""Masking of recipient identifiers for logs: enough to correlate, not enough to identify."""

from __future__ import annotations


def mask_phone(s: str) -> str:
    """`263771234567` -> `2637****4567`; short values keep only their last 2 characters.

    Used for phone numbers and BSUIDs alike; values of 2 characters or fewer are masked entirely.
    """
    if len(s) > 8:
        return s[:4] + "*" * (len(s) - 8) + s[-4:]
    if len(s) <= 2:
        return "*" * len(s)
    return "*" * (len(s) - 2) + s[-2:]
