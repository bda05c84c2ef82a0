"""Pending offers: accept, decline or cancel one offer at a time, or accept all that are waiting."""

from __future__ import annotations

from app.components.base import ConfirmComponent
from app.components.pending import (
    ACCEPT,
    CANCEL,
    DECLINE,
    AcceptAll,
    AnswerOffer,
    ConfirmAccept,
    ConfirmAll,
    ConfirmCancel,
    ConfirmDecline,
    KeptAll,
    KeptOffer,
    LoadAll,
    LoadPending,
    PickOffer,
    Verb,
)
from app.flows.table import Flow, Step

MENU = "menu.load"


def answer_steps(verb: Verb, confirm: ConfirmComponent) -> dict[str, Step]:
    """list (fresh dashboard) → pick → confirm → the one write → the list again while offers remain."""
    v = verb.name
    return {
        f"{v}_list": Step(LoadPending(verb), on={"ok": f"{v}_pick", "empty": MENU}),
        f"{v}_pick": Step(PickOffer(verb), on={"ok": f"{v}_confirm", "more": f"{v}_pick", "back": MENU}),
        f"{v}_confirm": Step(confirm, on={"yes": f"{v}_send", "no": f"{v}_kept"}),
        f"{v}_send": Step(AnswerOffer(verb), on={"ok": f"{v}_list", "rejected": f"{v}_list"}),
        f"{v}_kept": Step(KeptOffer(verb), on={"ok": f"{v}_list"}),
    }


PENDING = Flow(
    "pending",
    start="accept_list",
    steps={
        **answer_steps(ACCEPT, ConfirmAccept()),
        **answer_steps(DECLINE, ConfirmDecline()),
        **answer_steps(CANCEL, ConfirmCancel()),
        "accept_all": Step(LoadAll(), on={"ok": "accept_all_confirm", "empty": MENU}),
        "accept_all_confirm": Step(ConfirmAll(), on={"yes": "accept_all_send", "no": "accept_all_kept"}),
        "accept_all_send": Step(AcceptAll(), on={"ok": MENU}),
        "accept_all_kept": Step(KeptAll(), on={"ok": MENU}),
    },
    trigger="menu rows *Accept offers*, *Decline offers*, *Cancel my offers* and *Accept all*",
)

FLOWS = [PENDING]
