"""Login, onboarding and the menu: where every conversation starts and returns."""

from __future__ import annotations

from app.components.dashboard import ACTIONS, DashboardView, MenuChoice, MoreChoice
from app.components.member import (
    ConfirmName,
    FirstName,
    LastName,
    LoadDashboard,
    Login,
    NotMemberOffers,
    Onboard,
    Welcome,
)
from app.components.own_phone import OwnPhone
from app.flows.table import Flow, Step

MENU_TARGETS: dict[str, str] = {
    "offer_secured": "offer.amount",
    "offer_unsecured": "offer.amount",
    "shortcut": "offer.lookup",
    "accept": "pending.accept_list",
    "decline": "pending.decline_list",
    "cancel": "pending.cancel_list",
    "accept_all": "pending.accept_all",
    "ledger": "ledger.load",
    "upgrade": "upgrade.confirm",
    "switch": "account.switch",
    "authorize": "members.handle",
    "deauthorize": "members.remove_list",
    "send_offers_to": "members.send_to_list",
    "create_business": "business.name",
}
"""Where each menu row leads. A row whose flow is not registered is not offered (see registry.build)."""

LOGIN = Flow(
    "login",
    start="login",
    steps={
        "login": Step(Login(), on={"ok": "menu.show", "not_member": "onboard.welcome", "no_phone": "phone"}),
        "offers": Step(Login(), on={"ok": "pending.accept_list", "not_member": "not_member", "no_phone": "phone"}),
        "not_member": Step(NotMemberOffers(), on={"ok": "onboard.welcome"}),
        "phone": Step(OwnPhone(), on={"ok": "login"}),
    },
    trigger=(
        "any first message, or a reset word before logging in; a notification's *View offers* tap; a hidden "
        "number (a username) is asked for first, with WhatsApp's *Share phone number*"
    ),
)

ONBOARD = Flow(
    "onboard",
    start="welcome",
    steps={
        "welcome": Step(Welcome(), on={"ok": "first_name"}),
        "first_name": Step(FirstName(), on={"ok": "last_name"}),
        "last_name": Step(LastName(), on={"ok": "confirm_name"}),
        "confirm_name": Step(ConfirmName(), on={"yes": "create", "no": "first_name"}),
        "create": Step(Onboard(), on={"ok": "menu.show"}),
    },
    trigger=(
        "a phone number credex-core does not know; button *Become a member*; first and last name, then "
        "*Yes, register me* / *Change name*"
    ),
)


def menu_flow(enabled: frozenset[str]) -> Flow:
    on = {action: target for action, target in MENU_TARGETS.items() if action in enabled}
    return Flow(
        "menu",
        start="load",
        steps={
            "load": Step(
                LoadDashboard(), on={"ok": "show", "not_member": "onboard.welcome", "no_phone": "login.phone"}
            ),
            "show": Step(DashboardView(), on={"ok": "choose"}),
            "choose": Step(MenuChoice(enabled), on={**on, "more": "more"}),
            "more": Step(MoreChoice(enabled), on={**on, "more": "more"}),
        },
        trigger="hi, menu, home and the other reset words; after every finished action",
    )


ALL_ACTIONS = frozenset(a.id for a in ACTIONS) | {"shortcut"}
FLOWS = [LOGIN, ONBOARD]
