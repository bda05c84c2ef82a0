"""Upgrades of stored state written by older releases, one schema version at a time.

A release that changes the stored shape bumps `SCHEMA_VERSION` and registers a step here, so old sessions still
in Redis are upgraded on read instead of crashing the handler that meets them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.state.models import SCHEMA_VERSION

Raw = dict[str, Any]


class UnknownSchemaVersion(ValueError):
    """State written by a newer release than this one: refuse rather than guess."""


def _v0_to_v1(raw: Raw) -> Raw:
    """Version 0 (the seed's shape) had no schema_version and no version in `_metadata`."""
    meta = raw.setdefault("_metadata", {})
    meta.setdefault("version", 0)
    return raw


def _v1_to_v2(raw: Raw) -> Raw:
    """Version 2 added `opted_out_at` (the *stop* word); state written before it had no opt-out."""
    raw.setdefault("opted_out_at", None)
    return raw


STEPS: dict[int, Callable[[Raw], Raw]] = {0: _v0_to_v1, 1: _v1_to_v2}


def migrate(raw: Raw) -> Raw:
    meta = raw.get("_metadata") or {}
    version = int(meta.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise UnknownSchemaVersion(f"stored schema_version {version} is newer than {SCHEMA_VERSION}")
    while version < SCHEMA_VERSION:
        raw = STEPS[version](raw)
        version += 1
        raw.setdefault("_metadata", {})["schema_version"] = version
    return raw
