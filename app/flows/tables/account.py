"""Account settings as tables: tier upgrade, switching account, business members, opening a business account."""

from __future__ import annotations

from app.components.account import (
    AccountChoice,
    BusinessConfirm,
    BusinessHandle,
    BusinessName,
    Cancelled,
    CheckHandle,
    CreateBusiness,
    Subscribe,
    UpgradeConfirm,
)
from app.components.members import (
    Authorize,
    AuthorizeConfirm,
    FindMember,
    MemberHandle,
    RemoveChoice,
    RemoveConfirm,
    SendOffersTo,
    SendToChoice,
    SendToConfirm,
    SendToHandle,
    Unauthorize,
)
from app.flows.table import Flow, Step

MENU = "menu.load"

UPGRADE = Flow(
    "upgrade",
    start="confirm",
    steps={
        "confirm": Step(UpgradeConfirm(), on={"yes": "subscribe", "no": "cancelled"}),
        "subscribe": Step(Subscribe(), on={"ok": MENU}),
        "cancelled": Step(Cancelled(), on={"ok": MENU}),
    },
    trigger="menu row *Upgrade tier* (tier 1 members); buttons *Upgrade* / *Cancel*",
)

ACCOUNT = Flow(
    "account",
    start="switch",
    steps={"switch": Step(AccountChoice(), on={"ok": MENU, "back": MENU})},
    trigger="menu row *Switch account* (members with several accounts); a list of accounts, or a typed handle",
)

MEMBERS = Flow(
    "members",
    start="handle",
    steps={
        # authorize: handle → lookup → confirm → authorizeForAccount
        "handle": Step(MemberHandle(), on={"ok": "lookup"}),
        "lookup": Step(FindMember(), on={"ok": "authorize_confirm", "unknown": "handle", "give_up": MENU}),
        "authorize_confirm": Step(AuthorizeConfirm(), on={"yes": "authorize", "no": "cancelled"}),
        "authorize": Step(Authorize(), on={"ok": MENU, "retry": "handle"}),
        # remove: known member or typed handle → (lookup) → confirm → unauthorizeForAccount
        "remove_list": Step(RemoveChoice(), on={"picked": "remove_confirm", "lookup": "remove_lookup", "back": MENU}),
        "remove_lookup": Step(FindMember(), on={"ok": "remove_confirm", "unknown": "remove_list", "give_up": MENU}),
        "remove_confirm": Step(RemoveConfirm(), on={"yes": "remove", "no": "cancelled"}),
        "remove": Step(Unauthorize(), on={"ok": MENU, "retry": "remove_list"}),
        # send offers to: owner, current recipient or another member → confirm → updateSendOffersTo
        "send_to_list": Step(
            SendToChoice(),
            on={"picked": "send_to_confirm", "lookup": "send_to_lookup", "other": "send_to_handle", "back": MENU},
        ),
        "send_to_handle": Step(SendToHandle(), on={"ok": "send_to_lookup"}),
        "send_to_lookup": Step(
            FindMember(), on={"ok": "send_to_confirm", "unknown": "send_to_handle", "give_up": MENU}
        ),
        "send_to_confirm": Step(SendToConfirm(), on={"yes": "send_to", "no": "cancelled"}),
        "send_to": Step(SendOffersTo(), on={"ok": MENU, "retry": "send_to_list"}),
        "cancelled": Step(Cancelled(), on={"ok": MENU}),
    },
    trigger=(
        "menu rows *Authorize member*, *Remove member* and *Offers go to…* (on a business account you own); "
        "member handles typed or chosen from a list"
    ),
)

BUSINESS = Flow(
    "business",
    start="name",
    steps={
        "name": Step(BusinessName(), on={"ok": "handle"}),
        "handle": Step(BusinessHandle(), on={"ok": "check"}),
        "check": Step(CheckHandle(), on={"ok": "confirm", "taken": "handle", "give_up": MENU}),
        "confirm": Step(BusinessConfirm(), on={"yes": "create", "no": "cancelled"}),
        "create": Step(CreateBusiness(), on={"ok": MENU, "taken": "handle"}),
        "cancelled": Step(Cancelled(), on={"ok": MENU}),
    },
    trigger="menu row *New business account* (tier 2 and up); name, handle, button *Create*",
)

FLOWS = [UPGRADE, ACCOUNT, MEMBERS, BUSINESS]
