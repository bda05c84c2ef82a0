"""Inbound Cloud API webhooks flattened to typed updates, in order.

`parse_updates` walks every entry, change, message and status, because one POST may carry up to 1000 updates for
many users. The envelope's models live in `app/whatsapp/envelope.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from app.logs import get_logger
from app.whatsapp.envelope import (
    FIELD_MESSAGES,
    OBJECT_WHATSAPP,
    Contact,
    ErrorInfo,
    Message,
    Status,
    Value,
    WebhookPayload,
)

log = get_logger(__name__)

__all__ = [
    "ErrorInfo",
    "InboundError",
    "InboundMessage",
    "InboundStatus",
    "InboundUpdate",
    "InvalidPayload",
    "WebhookPayload",
    "load_body",
    "parse_body",
    "parse_updates",
]


# --- flattened updates --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A user's message. `channel_id` is the wa_id, or the BSUID when the user hides their number."""

    channel_id: str
    message_id: str
    type: str
    timestamp: int | None
    text: str | None
    reply_id: str | None
    reply_title: str | None
    profile_name: str | None
    raw: Message
    phone_number_id: str | None = None

    @property
    def input_text(self) -> str | None:
        """What a flow engine should treat as the user's answer: typed text, else the chosen reply id, else
        the phone number of a shared contact card ('' when the card has none)."""
        if self.text is not None:
            return self.text
        if self.reply_id is None and self.type == "contacts":
            return self.contact_phone or ""
        return self.reply_id

    @property
    def contact_phone(self) -> str | None:
        """The first phone number of a shared contact card: its `wa_id` (a WhatsApp user), else as written."""
        for card in self.raw.contacts or []:
            phones = card.get("phones") if isinstance(card, dict) else None
            for phone in phones if isinstance(phones, list) else []:
                if not isinstance(phone, dict):
                    continue
                found = phone.get("wa_id") or phone.get("phone")
                if isinstance(found, str) and found.strip():
                    return found.strip()
        return None

    @property
    def errors(self) -> list[ErrorInfo]:
        """Message-level errors, e.g. 131051 on `type: unsupported`."""
        return list(self.raw.errors)


@dataclass(frozen=True, slots=True)
class InboundStatus:
    """Status of a message we sent; dedupe on (`message_id`, `status`). `channel_id` may be unknown."""

    channel_id: str | None
    message_id: str
    status: str
    timestamp: int | None
    errors: list[ErrorInfo]
    raw: Status | None = None
    phone_number_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundError:
    """A `value.errors` item: a problem with the account or a payload Meta could not render (no user)."""

    code: int | None
    title: str | None
    message: str | None
    details: str | None
    phone_number_id: str | None = None


InboundUpdate = InboundMessage | InboundStatus | InboundError


class InvalidPayload(ValueError):
    """The body is not JSON or not a WhatsApp webhook envelope."""


REASON_MAX = 200


def load_body(raw: bytes) -> dict[str, Any]:
    """The body as a dict with the WhatsApp object and an entry list, else InvalidPayload (no input echoed)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"body is not valid JSON: {str(exc)[:REASON_MAX]}") from exc
    if not isinstance(data, dict):
        raise InvalidPayload("body is not a JSON object")
    if data.get("object") != OBJECT_WHATSAPP:
        raise InvalidPayload(f"object must be {OBJECT_WHATSAPP!r}")
    if not isinstance(data.get("entry"), list):
        raise InvalidPayload("entry must be a list")
    return data


def parse_body(raw: bytes) -> WebhookPayload:
    """Parse a raw POST body (after the signature check) into a `WebhookPayload`, all or nothing (the webhook
    itself validates update by update: app/whatsapp/split.py)."""
    data = load_body(raw)
    try:
        return WebhookPayload.model_validate(data)
    except ValidationError as exc:
        # Locations and reasons only: str(exc) would echo input values (phone numbers, texts) into logs.
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False)[:5])
        raise InvalidPayload(f"unexpected webhook shape ({exc.error_count()} error(s)): {where}") from None


def _contact_for(message: Message, contacts: list[Contact]) -> Contact | None:
    """The contact whose id matches the sender; the sole contact only if the message carries no id."""
    for contact in contacts:
        if (message.from_ and contact.wa_id == message.from_) or (
            message.from_user_id and contact.user_id == message.from_user_id
        ):
            return contact
    if message.from_ is None and message.from_user_id is None and len(contacts) == 1:
        return contacts[0]
    return None


def _text_and_reply(m: Message) -> tuple[str | None, str | None, str | None]:
    """(text, reply_id, reply_title) for the message's type."""
    if m.text is not None:
        return m.text.body, None, None
    if m.interactive is not None:
        i = m.interactive
        ref = i.button_reply or i.list_reply
        if ref is not None:
            return None, ref.id, ref.title
        if i.nfm_reply is not None:
            token = (i.nfm_reply.response or {}).get("flow_token")
            return None, token if isinstance(token, str) else None, i.nfm_reply.body
        return None, None, None
    if m.button is not None:
        return None, m.button.payload, m.button.text
    for media in (m.image, m.document, m.video, m.audio, m.sticker):
        if media is not None:
            return media.caption, None, None
    return None, None, None


def _message(m: Message, value: Value, phone_number_id: str | None) -> InboundMessage | None:
    contact = _contact_for(m, value.contacts)
    channel = m.from_ or m.from_user_id
    if channel is None and contact is not None:
        channel = contact.wa_id or contact.user_id
    if channel is None or m.id is None:
        log.warning(
            "whatsapp_message_skipped",
            reason="no channel" if m.id else "no message id",
            message_id=m.id,
            message_type=m.type,
        )
        return None
    text, reply_id, reply_title = _text_and_reply(m)
    return InboundMessage(
        channel_id=channel,
        message_id=m.id,
        type=m.type,
        timestamp=m.timestamp,
        text=text,
        reply_id=reply_id,
        reply_title=reply_title,
        profile_name=contact.profile.name if contact and contact.profile else None,
        raw=m,
        phone_number_id=phone_number_id,
    )


def _status(s: Status, phone_number_id: str | None) -> InboundStatus | None:
    if s.id is None or s.status is None:
        log.warning("whatsapp_status_skipped", reason="no id or status", status=s.status)
        return None
    return InboundStatus(
        channel_id=s.recipient_id or s.recipient_user_id,
        message_id=s.id,
        status=s.status,
        timestamp=s.timestamp,
        errors=list(s.errors),
        raw=s,
        phone_number_id=phone_number_id,
    )


def parse_updates(payload: WebhookPayload) -> list[InboundUpdate]:
    """Flatten to updates in payload order: per change, its messages, then statuses, then value errors.

    Changes whose `field` is not `messages` (template status, account updates, message echoes) carry other
    shapes and are not user input, so they are skipped with a log line rather than misread.
    """
    updates: list[InboundUpdate] = []
    for entry in payload.entry:
        for change in entry.changes:
            if change.field != FIELD_MESSAGES:
                log.info("whatsapp_change_ignored", field=change.field)
                continue
            value = change.value
            pnid = value.metadata.phone_number_id if value.metadata else None
            for m in value.messages:
                if (msg := _message(m, value, pnid)) is not None:
                    updates.append(msg)
            for s in value.statuses:
                if (st := _status(s, pnid)) is not None:
                    updates.append(st)
            updates.extend(
                InboundError(code=e.code, title=e.title, message=e.message, details=e.details, phone_number_id=pnid)
                for e in value.errors
            )
    return updates
