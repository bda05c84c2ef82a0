"""What a person was in the middle of, in words: "Your offer of 5.00 USD to Bob was not sent."

Said when they cancel, and when a session lapses mid-flow, so they know exactly what did not happen. A step
that holds nothing worth saying (a menu, a list being browsed) has no note: then no timeout note is shown.
"""

from __future__ import annotations

from typing import Any

from app.components.offers import amount_text
from app.components.pending import describe
from app.state.models import FlowData

_PENDING_PAST = {"accept": "accepted", "decline": "declined"}


def _offer(data: dict[str, Any]) -> str:
    if not data.get("amount") or not data.get("denomination"):
        return "Your offer was not sent."
    receiver = data.get("receiver_name") or (f"@{data['receiver_handle']}" if data.get("receiver_handle") else "")
    if receiver:
        return f"Your offer of {amount_text(data)} to {receiver} was not sent."
    return f"Your offer of {amount_text(data)} was not sent."


def _pending(step: str, data: dict[str, Any]) -> str | None:
    verb, _, stage = step.partition("_")
    offer = data.get("offer")
    if step.startswith("accept_all") and data.get("offers"):
        return "Nothing was accepted: your offers are still pending."
    if stage != "confirm" or not isinstance(offer, dict):
        return None
    if verb == "cancel":
        return f"Your offer of {describe(offer, incoming=False)} was not cancelled: it is still pending."
    return f"The offer of {describe(offer, incoming=True)} was not {_PENDING_PAST.get(verb, verb)}."


def not_done(flow: FlowData) -> str | None:
    """The sentence for what the person had started and is now not done, or None when nothing was."""
    data, step = flow.data, flow.component
    match flow.context:
        case "offer":
            return _offer(data)
        case "pending":
            return _pending(step, data)
        case "onboard":
            return "You are not registered yet." if step != "welcome" else None
        case "upgrade":
            return "Your tier was not changed."
        case "business":
            return "No business account was created."
        case "members":
            if step.startswith("remove"):
                return "Nobody was removed from this account."
            if step.startswith("send_to"):
                return "Who receives this account's offers was not changed."
            return "Nobody was authorized for this account."
    return None


def holds_answers(flow: FlowData) -> bool:
    """Answers already given that a third wrong answer must not throw away (amount, recipient, names)."""
    data = flow.data
    keys = {"amount", "receiver_account_id", "handle", "first_name", "name", "member"}
    return any(data.get(k) for k in keys)
