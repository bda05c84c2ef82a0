"""Splitting a webhook body into updates that are validated one by one.

A POST may carry up to 1000 updates for many people; one mistyped field (a number where Meta sends a string)
must cost that one update, never the others, because Meta does not resend a body we acknowledged. Each message
or status becomes a *unit*: a one-update `value` (metadata, the sender's contact, the update itself) that the
inbox stores as it came and a worker parses again with the same models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ValidationError

from app.channel_ids import CHANNEL_ID
from app.logs import get_logger
from app.whatsapp.envelope import FIELD_MESSAGES, Contact, Metadata, Value
from app.whatsapp.inbound import REASON_MAX, InboundMessage, InboundStatus, _message, _status

log = get_logger(__name__)

Kind = Literal["message", "status"]
OTHER_FIELDS = frozenset(
    {
        "account_alerts",
        "account_review_update",
        "account_update",
        "business_capability_update",
        "flows",
        "history",
        "message_template_quality_update",
        "message_template_status_update",
        "phone_number_name_update",
        "phone_number_quality_update",
        "security",
        "smb_app_state_sync",
        "smb_message_echoes",
        "template_category_update",
        "user_preferences",
    }
)
"""Webhook fields of a WhatsApp Business Account other than `messages`: logged by name, anything else as `other`
(a signed body's field is still what a sender wrote: a name in it would reach the logs)."""


@dataclass(frozen=True, slots=True)
class Unit:
    kind: Kind
    channel_id: str
    data: bytes
    """The one-update value as JSON: what the inbox stores."""
    update: InboundMessage | InboundStatus


@dataclass(frozen=True, slots=True)
class Rejected:
    """A malformed part of a body: where (a JSON path) and why, without any of the values."""

    path: str
    reason: str
    part: Literal["entry", "change", "metadata", "contact", "message", "status"]


@dataclass(slots=True)
class Split:
    units: list[Unit]
    rejected: list[Rejected]
    skipped: int = 0
    """Updates that are well formed but not for the inbox (no channel or id, other change fields, errors)."""


def _why(exc: ValidationError) -> str:
    """Locations and reasons only: the input values could be phone numbers or message text."""
    parts = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors(include_input=False)[:3]]
    return "; ".join(parts)[:REASON_MAX]


def _valid(model: type[BaseModel], item: object, path: str, part: Any, out: Split) -> bool:
    try:
        model.model_validate(item)
    except ValidationError as exc:
        out.rejected.append(Rejected(path, _why(exc), part))
        return False
    return True


def split_body(data: dict[str, Any]) -> Split:
    out = Split([], [])
    for e, entry in enumerate(data["entry"]):
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            out.rejected.append(Rejected(f"entry[{e}]", "changes must be a list", "entry"))
            continue
        for c, change in enumerate(changes):
            path = f"entry[{e}].changes[{c}]"
            if not isinstance(change, dict) or not isinstance(change.get("value", {}), dict):
                out.rejected.append(Rejected(path, "a change must be an object with an object value", "change"))
                continue
            if change.get("field") != FIELD_MESSAGES:
                out.skipped += 1
                field = change.get("field")
                known = isinstance(field, str) and field in OTHER_FIELDS  # a list or object is not hashable
                log.info("whatsapp_change_ignored", field=field if known else "other")
                continue
            _split_value(change.get("value") or {}, f"{path}.value", out)
    return out


def _items(value: dict[str, Any], name: str, path: str, out: Split) -> list[Any]:
    items = value.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        out.rejected.append(Rejected(f"{path}.{name}", "must be a list", "change"))
        return []
    return items


def _split_value(value: dict[str, Any], path: str, out: Split) -> None:
    metadata = value.get("metadata")
    if metadata is not None and not _valid(Metadata, metadata, f"{path}.metadata", "metadata", out):
        metadata = None
    contacts = [
        contact
        for n, contact in enumerate(_items(value, "contacts", path, out))
        if _valid(Contact, contact, f"{path}.contacts[{n}]", "contact", out)
    ]
    base = {"messaging_product": value.get("messaging_product"), "metadata": metadata}
    if not isinstance(base["messaging_product"], str):
        base["messaging_product"] = None
    for n, message in enumerate(_items(value, "messages", path, out)):
        unit = {**base, "contacts": contacts, "messages": [message]}
        _add(unit, f"{path}.messages[{n}]", "message", out)
    for n, status in enumerate(_items(value, "statuses", path, out)):
        _add({**base, "statuses": [status]}, f"{path}.statuses[{n}]", "status", out)
    for problem in _items(value, "errors", path, out):
        if isinstance(problem, dict):
            log.warning("whatsapp_value_error", code=problem.get("code"), title=str(problem.get("title"))[:100])
        out.skipped += 1


def _add(unit: dict[str, Any], path: str, kind: Kind, out: Split) -> None:
    """Validated from the JSON the inbox will store, as the worker will read it (load_unit): python-mode validation
    of the dict let through values the worker's JSON parsing refuses (nesting deeper than its limit)."""
    try:
        data = orjson.dumps(unit)
    except TypeError:  # orjson writes at most 254 levels; the body was read with up to 1024
        out.rejected.append(Rejected(path, "nested too deeply", kind))
        return
    try:
        parsed = Value.model_validate_json(data)
    except ValidationError as exc:
        out.rejected.append(Rejected(path, _why(exc), kind))
        return
    update = parse_unit(kind, parsed)
    if update is None or update.channel_id is None:
        out.skipped += 1
        return
    if not CHANNEL_ID.match(update.channel_id):
        # It names the person's Redis keys (app/state/keys.py refuses any other): a worker could never handle it.
        out.rejected.append(Rejected(path, "sender id not 1-128 letters, digits, '.', '_', ':' or '-'", kind))
        return
    if len(update.message_id) > 256:
        out.rejected.append(Rejected(path, "message id too long", kind))
        return
    if isinstance(update, InboundMessage) and len(parsed.contacts) > 1:
        # Keep only the sender's contact: the others are other people's names, not this update's.
        unit["contacts"] = [c for c in unit["contacts"] if update.channel_id in (c.get("wa_id"), c.get("user_id"))][:1]
        data = orjson.dumps(unit)
    out.units.append(Unit(kind, update.channel_id, data, update))


def parse_unit(kind: str, value: Value) -> InboundMessage | InboundStatus | None:
    pnid = value.metadata.phone_number_id if value.metadata else None
    if kind == "message" and value.messages:
        return _message(value.messages[0], value, pnid)
    if kind == "status" and value.statuses:
        return _status(value.statuses[0], pnid)
    return None


def load_unit(kind: str, data: bytes) -> InboundMessage | InboundStatus | None:
    """A stored unit back to its update (the worker side); None when it no longer parses."""
    try:
        return parse_unit(kind, Value.model_validate_json(data))
    except ValidationError:
        return None
