"""The ledger: settled credex page by page, and any entry opened in full."""

from __future__ import annotations

from app.components.ledger import EntryView, LedgerChoice, LoadLedger, OpenEntry
from app.flows.table import Flow, Step

LEDGER = Flow(
    "ledger",
    start="load",
    steps={
        "load": Step(LoadLedger(), on={"ok": "choose", "empty": "menu.load"}),
        "choose": Step(LedgerChoice(), on={"ok": "open", "page": "load", "back": "menu.load"}),
        "open": Step(OpenEntry(), on={"ok": "show"}),
        "show": Step(EntryView(), on={"ok": "choose"}),
    },
    trigger="menu row *View ledger*",
)

FLOWS = [LEDGER]
