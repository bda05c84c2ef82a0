"""The buttons and list rows on the person's screen now, so a tap or a typed title can be read against them.

After each turn the runner keeps, in flow data, the ids and titles of the buttons and rows the turn sent. Then:
- a tap whose id is not among them is from an earlier message: never read as typed text (a name, an amount);
- the same tap again right after it was handled is a double tap: ignored quietly;
- a typed button or row title ("sign and send", "Accept offers") is read as the tap, and so is a row number
  ("2") while the latest message is a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.flows.words import normalize
from app.whatsapp.messages import ListMessage, ReplyButtons

OFFERED = "_offered"
"""Flow-data key: [[id, title, 'button'|'row'], ...] of the latest turn's interactive messages."""
LAST_TAP = "_last_tap"
"""Flow-data key: the id of the last tap that was handled."""
ALWAYS = frozenset({"menu"})
"""Ids that mean the same on any message ("Menu", "Back to menu"): a tap on an old one is still understood."""


def offered_in(messages: Sequence[Any]) -> list[list[str]] | None:
    """Ids and titles of the buttons and rows among a turn's messages; None when the turn sent nothing."""
    if not messages:
        return None
    found: list[list[str]] = []
    for message in messages:
        if isinstance(message, ReplyButtons):
            found += [[b.id, b.title, "button"] for b in message.buttons]
        elif isinstance(message, ListMessage):
            found += [[r.id, r.title, "row"] for s in message.sections for r in s.rows]
    return found


def _offered(data: dict[str, Any]) -> list[list[str]] | None:
    value = data.get(OFFERED)
    return value if isinstance(value, list) else None


def is_stale(data: dict[str, Any], tap: str) -> bool:
    """A tap on a button that is not on the latest message (unknown when nothing was recorded: not stale)."""
    offered = _offered(data)
    if offered is None or tap in ALWAYS:
        return False
    return all(item[0] != tap for item in offered)


def is_double_tap(data: dict[str, Any], tap: str) -> bool:
    return bool(tap) and data.get(LAST_TAP) == tap


def typed_choice(data: dict[str, Any], text: str) -> str | None:
    """The id a typed title or row number stands for, if the latest message offered it."""
    offered = _offered(data)
    if not offered:
        return None
    words = normalize(text)
    if not words:
        return None
    for item_id, title, _ in offered:
        if normalize(title) == words:
            return item_id
    rows = [item for item in offered if item[2] == "row"]
    if rows and text.strip().isdigit():
        n = int(text.strip())
        if 1 <= n <= len(rows):
            return rows[n - 1][0]
    return None
