"""Builds the one Registry of all flow tables, found in app/flows/tables/*.py."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from app.flows import tables
from app.flows.table import Flow, Registry
from app.flows.tables.start import ALL_ACTIONS, MENU_TARGETS, menu_flow


def discover() -> list[Flow]:
    flows: list[Flow] = []
    for module in pkgutil.iter_modules(tables.__path__):
        loaded = importlib.import_module(f"{tables.__name__}.{module.name}")
        flows.extend(getattr(loaded, "FLOWS", []))
    return flows


@lru_cache(maxsize=1)
def build() -> Registry:
    """Every table checked at import; menu rows are offered only for flows that exist."""
    flows = discover()
    names = {f.name for f in flows}
    enabled = frozenset(a for a in ALL_ACTIONS if MENU_TARGETS[a].split(".")[0] in names)
    menu = menu_flow(enabled)
    return Registry([*flows, menu], entry_points=["menu.load", "login.login", "login.offers"])


REGISTRY = build()
