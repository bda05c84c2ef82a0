"""Offering a secured or unsecured credex, from the menu rows or a shortcut typed at the menu.

A refusal that a different amount can fix (insufficient secured balance, the tier's daily limit) asks for the
amount again and then returns straight to the confirmation ("reamount"): the recipient is already known, so
asking for it again would only make the person retype it.
"""

from __future__ import annotations

from app.components.offer_amount import AmountCheck, OfferAmount
from app.components.offers import (
    CreateOffer,
    OfferCancelled,
    OfferConfirm,
    OfferDueDate,
    OfferHandle,
    OfferLookup,
)
from app.flows.table import Flow, Step

MENU = "menu.load"

OFFER = Flow(
    "offer",
    start="amount",
    steps={
        "amount": Step(OfferAmount(), on={"ok": "handle", "ask": "amount_check"}),
        "amount_check": Step(AmountCheck(), on={"ok": "handle", "no": "amount", "ask": "amount_check"}),
        "handle": Step(OfferHandle(), on={"ok": "lookup"}),
        "lookup": Step(OfferLookup(), on={"ok": "confirm", "needs_due": "due", "unknown": "handle", "self": "handle"}),
        "due": Step(OfferDueDate(), on={"ok": "confirm"}),
        "confirm": Step(OfferConfirm(), on={"yes": "create", "no": "cancelled"}),
        "cancelled": Step(OfferCancelled(), on={"ok": MENU}),
        "create": Step(CreateOffer(), on={"ok": MENU, "fix_amount": "reamount", "fix_due": "due"}),
        "reamount": Step(OfferAmount(), on={"ok": "confirm", "ask": "reamount_check"}),
        "reamount_check": Step(AmountCheck(), on={"ok": "confirm", "no": "reamount", "ask": "reamount_check"}),
    },
    trigger=(
        "menu rows *Offer secured credex* / *Offer unsecured*; shortcuts typed at the menu: "
        "*5=>handle* (secured), *5->handle* or *5->handle=YYYY-MM-DD* (unsecured)"
    ),
)

FLOWS = [OFFER]
