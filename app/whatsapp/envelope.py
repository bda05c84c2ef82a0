"""The Cloud API webhook envelope as tolerant pydantic models.

Meta adds message types and fields without notice, and an unparseable POST is retried for 7 days, so every
model allows unknown fields and `type` is a plain `str`: a new type must reach the flow engine as a message it
can ignore, never fail the whole batch.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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
