"""Inbound Cloud API webhooks: tolerant pydantic models of the envelope, and a flattening to typed updates.

Meta adds message types and fields without notice, and an unparseable POST is retried for 7 days, so every
model allows unknown fields and `type` is a plain `str`: a new type must reach the flow engine as an
`InboundMessage` it can ignore, never fail the whole batch. `parse_updates` walks every entry, change,
message and status, in order, because one POST may carry up to 1000 updates for many users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import structlog
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

log = structlog.get_logger(__name__)

OBJECT_WHATSAPP = "whatsapp_business_account"
FIELD_MESSAGES = "messages"


def _int_or_none(value: object) -> object:
    """Meta sends epoch seconds as strings; anything that is not an integer becomes None, not an error."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _list_or_empty(value: object) -> object:
    return [] if value is None else value


Timestamp = Annotated[int | None, BeforeValidator(_int_or_none)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class ErrorInfo(_Model):
    """An error in `value.errors`, `messages[].errors` or `statuses[].errors`."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None
    href: str | None = None

    @property
    def details(self) -> str | None:
        details = (self.error_data or {}).get("details")
        return details if isinstance(details, str) else None


ErrorList = Annotated[list[ErrorInfo], BeforeValidator(_list_or_empty)]


class Metadata(_Model):
    display_phone_number: str | None = None
    phone_number_id: str | None = None


class Profile(_Model):
    name: str | None = None
    username: str | None = None


class Contact(_Model):
    """`wa_id` may be absent for users with a username; `user_id` is the business-scoped id (BSUID)."""

    profile: Profile | None = None
    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None


class Context(_Model):
    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None


class Referral(_Model):
    """Click-to-WhatsApp ad origin; media URLs stay in `model_extra`."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    ctwa_clid: str | None = None


class Text(_Model):
    body: str | None = None


class Media(_Model):
    """image / document / audio / video / sticker: download by `id` through the Graph API."""

    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class Location(_Model):
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    address: str | None = None
    url: str | None = None


class Reaction(_Model):
    """An empty `emoji` means the user removed their reaction."""

    message_id: str | None = None
    emoji: str | None = None


class ReplyRef(_Model):
    """`button_reply` / `list_reply`: the id we sent and the title the user saw."""

    id: str | None = None
    title: str | None = None
    description: str | None = None


class NfmReply(_Model):
    """WhatsApp Flows completion; `response_json` is a JSON document serialised into a string."""

    name: str | None = None
    body: str | None = None
    response_json: str | None = None

    @property
    def response(self) -> dict[str, Any] | None:
        """`response_json` parsed; None if absent or not a JSON object."""
        if self.response_json is None:
            return None
        try:
            parsed = orjson.loads(self.response_json)
        except orjson.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None


class Interactive(_Model):
    type: str | None = None
    button_reply: ReplyRef | None = None
    list_reply: ReplyRef | None = None
    nfm_reply: NfmReply | None = None


class ButtonReply(_Model):
    """Template quick-reply button (`type: button`): `payload` is the id we set, `text` the label."""

    payload: str | None = None
    text: str | None = None


class System(_Model):
    body: str | None = None
    type: str | None = None
    wa_id: str | None = None


class Message(_Model):
    """One `messages[]` item. Only the sub-object named by `type` is normally present."""

    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    id: str | None = None
    timestamp: Timestamp = None
    type: str = "unknown"
    context: Context | None = None
    referral: Referral | None = None
    errors: ErrorList = Field(default_factory=list)
    text: Text | None = None
    interactive: Interactive | None = None
    button: ButtonReply | None = None
    image: Media | None = None
    document: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[dict[str, Any]] | None = None
    reaction: Reaction | None = None
    order: dict[str, Any] | None = None  # catalog orders: not used by this bot, kept for logs
    system: System | None = None
    unsupported: dict[str, Any] | None = None


class Status(_Model):
    """Delivery report for a message we sent: sent / delivered / read / failed / played.

    `conversation` and `pricing` are billing data the bot does not act on, so they stay untyped dicts.
    """

    id: str | None = None
    status: str | None = None
    timestamp: Timestamp = None
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    errors: ErrorList = Field(default_factory=list)


class Value(_Model):
    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: Annotated[list[Contact], BeforeValidator(_list_or_empty)] = Field(default_factory=list)
    messages: Annotated[list[Message], BeforeValidator(_list_or_empty)] = Field(default_factory=list)
    statuses: Annotated[list[Status], BeforeValidator(_list_or_empty)] = Field(default_factory=list)
    errors: ErrorList = Field(default_factory=list)


class Change(_Model):
    field: str | None = None
    value: Value = Field(default_factory=Value)


class Entry(_Model):
    id: str | None = None
    changes: Annotated[list[Change], BeforeValidator(_list_or_empty)] = Field(default_factory=list)


class WebhookPayload(_Model):
    object: str
    entry: list[Entry]


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
        """What a flow engine should treat as the user's answer: typed text, else the chosen reply id."""
        return self.text if self.text is not None else self.reply_id

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


def parse_body(raw: bytes) -> WebhookPayload:
    """Parse a raw POST body (after the signature check) into a `WebhookPayload`."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidPayload("body is not a JSON object")
    if data.get("object") != OBJECT_WHATSAPP:
        raise InvalidPayload(f"object must be {OBJECT_WHATSAPP!r}, got {data.get('object')!r}")
    if not isinstance(data.get("entry"), list):
        raise InvalidPayload("entry must be a list")
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
