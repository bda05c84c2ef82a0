"""What the simulator page may send, and the Cloud API webhook Meta would deliver for it.

The page posts what the person did (typed, tapped, shared a photo, a place, a voice note or a contact card); this
module checks it and builds the message exactly as Meta shapes it (shared/whatsapp/payloads): a template
quick-reply tap is `type: button` with `button.payload` / `button.text`, media come as an id and a sha256 (there
is no media to download in development), a contact card carries `phones[].wa_id` when the number is on WhatsApp.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.config import Settings
from app.whatsapp.messages import BUTTON_ID_MAX, ROW_DESCRIPTION_MAX, ROW_TITLE_MAX, TEXT_BODY_MAX

DISPLAY_NUMBER = "15550000000"
CAPTION_MAX = 1024
DEFAULT_MIME = {"image": "image/jpeg", "audio": "audio/ogg; codecs=opus"}

Phone = Annotated[str, StringConstraints(pattern=r"^[0-9]{8,15}$")]
Kind = Literal["text", "button_reply", "list_reply", "button", "image", "audio", "location", "contacts"]
TAPS = frozenset({"button_reply", "list_reply", "button"})


class MediaIn(BaseModel):
    """A photo or voice note: its type and checksum (the page hashes the picked file); never its bytes."""

    model_config = ConfigDict(extra="forbid")

    mime_type: Annotated[str, StringConstraints(pattern=r"^(image|audio)/[A-Za-z0-9.+\-]+(; ?codecs=[a-z0-9]+)?$")]
    sha256: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{4,86}={0,2}$")] | None = None
    caption: Annotated[str, Field(min_length=1, max_length=CAPTION_MAX)] | None = None


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    address: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class ContactIn(BaseModel):
    """A shared contact card: a name and one number, as typed in the phone's address book."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()\-]{3,29}$")]


_FIELDS: dict[str, frozenset[str]] = {
    "text": frozenset({"text"}),
    "image": frozenset({"media"}),
    "audio": frozenset({"media"}),
    "location": frozenset({"location"}),
    "contacts": frozenset({"contact"}),
    "button_reply": frozenset({"reply_id", "reply_title"}),
    "list_reply": frozenset({"reply_id", "reply_title", "reply_description"}),
    "button": frozenset({"reply_id", "reply_title", "context_id"}),
}
_REQUIRED = {"text": "text", "location": "location", "contacts": "contact", **{tap: "reply_id" for tap in TAPS}}
_OPTIONAL = frozenset(
    {"text", "reply_id", "reply_title", "reply_description", "context_id", "media", "location", "contact"}
)


class SimulatorSend(BaseModel):
    """What the person did: typed `text`; tapped a reply button, a list row or a template's quick-reply
    (`reply_id`, `reply_title`, a row's `reply_description`; a template tap quotes the template's wamid in
    `context_id`); or shared `media` (kind image or audio), a `location` or a `contact` card."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"phone": "263770000002", "kind": "text", "text": "hi"},
                {"phone": "263770000002", "kind": "button_reply", "reply_id": "menu", "reply_title": "Menu"},
                {"phone": "263770000002", "kind": "button", "reply_id": "view_offers", "reply_title": "View offers"},
                {"phone": "263770000002", "kind": "location", "location": {"latitude": -17.83, "longitude": 31.05}},
                {"phone": "263770000002", "kind": "contacts", "contact": {"name": "Bob", "phone": "+263770000002"}},
            ]
        },
    )

    phone: Phone
    kind: Kind = "text"
    text: Annotated[str, Field(min_length=1, max_length=TEXT_BODY_MAX)] | None = None
    reply_id: Annotated[str, Field(min_length=1, max_length=BUTTON_ID_MAX)] | None = None
    reply_title: Annotated[str, Field(min_length=1, max_length=ROW_TITLE_MAX)] | None = None
    reply_description: Annotated[str, Field(min_length=1, max_length=ROW_DESCRIPTION_MAX)] | None = None
    """A list row's description, which Meta sends back with the row's id and title."""
    context_id: Annotated[str, StringConstraints(pattern=r"^wamid\.[A-Za-z0-9._=+/\-]{1,200}$")] | None = None
    media: MediaIn | None = None
    location: LocationIn | None = None
    contact: ContactIn | None = None
    name: Annotated[str, Field(min_length=1, max_length=60)] | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> SimulatorSend:
        allowed = _FIELDS[self.kind]
        extra = sorted(f for f in _OPTIONAL - allowed if getattr(self, f) is not None)
        if extra:
            raise ValueError(f"a {self.kind} message takes no {', '.join(f'`{f}`' for f in extra)}")
        required = _REQUIRED.get(self.kind)
        if required is not None and getattr(self, required) is None:
            raise ValueError(f"a {self.kind} message needs `{required}`")
        if self.kind == "text" and not (self.text or "").strip():
            raise ValueError("a text message needs non-blank `text`")
        if self.media is not None and not self.media.mime_type.startswith(f"{self.kind}/"):
            raise ValueError(f"an {self.kind} message needs an {self.kind}/* mime_type")
        if self.kind == "audio" and self.media is not None and self.media.caption is not None:
            raise ValueError("a voice note has no caption")
        return self

    def shown(self) -> dict[str, Any]:
        """What the page needs to draw the person's bubble again after a reload."""
        return self.model_dump(mode="json", exclude={"phone", "name"}, exclude_none=True)


def new_wamid() -> str:
    """Unique like Meta's ids, so the webhook's duplicate detection never swallows a simulated message."""
    return f"wamid.SIM{secrets.token_hex(16).upper()}"


def _media(body: SimulatorSend) -> dict[str, Any]:
    media = body.media
    sha256 = media.sha256 if media and media.sha256 else base64.b64encode(secrets.token_bytes(32)).decode()
    out: dict[str, Any] = {
        "mime_type": media.mime_type if media else DEFAULT_MIME[body.kind],
        "sha256": sha256,
        "id": str(secrets.randbelow(10**16 - 10**15) + 10**15),
    }
    if body.kind == "audio":
        out["voice"] = True
    elif media is not None and media.caption is not None:
        out["caption"] = media.caption
    return out


def _contact_card(card: ContactIn) -> list[dict[str, Any]]:
    first, _, last = card.name.strip().partition(" ")
    name = {"formatted_name": card.name, "first_name": first} | ({"last_name": last} if last else {})
    phone: dict[str, Any] = {"phone": card.phone, "type": "CELL"}
    digits = "".join(c for c in card.phone if c.isdigit())
    if card.phone.startswith("+") and 8 <= len(digits) <= 15:
        phone["wa_id"] = digits  # international form: a WhatsApp number, as the phone reports it
    return [{"name": name, "phones": [phone]}]


def build_message(body: SimulatorSend, wamid: str, now: int) -> dict[str, Any]:
    message: dict[str, Any] = {"from": body.phone, "id": wamid, "timestamp": str(now)}
    kind = body.kind
    if kind == "text":
        message |= {"type": "text", "text": {"body": body.text}}
    elif kind == "button":
        message |= {"type": "button", "button": {"payload": body.reply_id, "text": body.reply_title or body.reply_id}}
        if body.context_id is not None:
            message["context"] = {"from": DISPLAY_NUMBER, "id": body.context_id}
    elif kind in ("button_reply", "list_reply"):
        reply = {"id": body.reply_id, "title": body.reply_title or body.reply_id}
        if body.reply_description is not None:
            reply["description"] = body.reply_description
        message |= {"type": "interactive", "interactive": {"type": kind, kind: reply}}
    elif kind in ("image", "audio"):
        message |= {"type": kind, kind: _media(body)}
    elif kind == "location":
        assert body.location is not None
        message |= {"type": "location", "location": body.location.model_dump(exclude_none=True)}
    else:
        assert body.contact is not None
        message |= {"type": "contacts", "contacts": _contact_card(body.contact)}
    return message


def build_envelope(body: SimulatorSend, settings: Settings, wamid: str, now: int | None = None) -> dict[str, Any]:
    """The Cloud API webhook shape for one inbound message, contacts included (wa_id, user_id, profile)."""
    contact = {
        "profile": {"name": body.name or f"Simulator {body.phone[-4:]}"},
        "wa_id": body.phone,
        "user_id": f"ZW.SIM{body.phone}",
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": settings.whatsapp_phone_number_id},
        "contacts": [contact],
        "messages": [build_message(body, wamid, int(time.time()) if now is None else now)],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "SIMULATOR_WABA", "changes": [{"field": "messages", "value": value}]}],
    }
