"""Outbound WhatsApp messages as pydantic models that enforce the Cloud API limits when built.

The Graph API rejects an over-long title or a fourth button only when the message is sent, so a component
that builds one would fail in production alone. Validating at construction makes it fail in its tests.
Limits are from PROTOCOL.md section 5 and count Python characters (code points).

Every model round-trips through JSON via the `OutboundMessage` union (the outbox stores them that way).
Run-time text from outside (member names, API strings) goes through `fit` / the `safe` constructors.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from app.logs import get_logger
from app.whatsapp.templates import APPROVED

log = get_logger(__name__)

ELLIPSIS = "…"

TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_MAX = 60
FOOTER_MAX = 60
BUTTON_ID_MAX = 256
BUTTON_TITLE_MAX = 20
BUTTONS_MAX = 3
LIST_BUTTON_MAX = 20
SECTIONS_MAX = 10
ROWS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
TEMPLATE_BODY_MAX = 1024
TEMPLATE_BUTTONS_MAX = 10
"""A template has at most 10 buttons, so at most 10 quick-reply payloads (indexes 0 to 9)."""
TEMPLATE_PAYLOAD_MAX = 256
"""Our cap on a quick-reply payload: Meta documents none we could find; 256 is the reply-button id's limit, and
ours are short words (`view_offers`) anyway."""


# --- truncation ---------------------------------------------------------------------------------------


def _extends_previous(ch: str) -> bool:
    """True for code points that belong to the character before them (so a cut must not land before)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")  # combining marks, keycap U+20E3
        or cp == 0x200D  # zero-width joiner
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors (emoji presentation)
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or 0xDC00 <= cp <= 0xDFFF  # low half of a surrogate pair held as two code points
        or 0x1160 <= cp <= 0x11FF  # conjoining Hangul vowels and final consonants
        or 0xD7B0 <= cp <= 0xD7FF
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _boundary(text: str, cut: int) -> int:
    """The largest index <= `cut` (< len(text)) that does not split a user-perceived character."""
    while cut > 0 and (
        _extends_previous(text[cut])
        or text[cut - 1] == "\u200d"
        or 0xD800 <= ord(text[cut - 1]) <= 0xDBFF  # high surrogate half
    ):
        cut -= 1
    if cut > 0 and _is_regional_indicator(text[cut]):
        run = 0
        while cut - run > 0 and _is_regional_indicator(text[cut - run - 1]):
            run += 1
        if run % 2:  # flags are pairs of regional indicators: don't keep half of one
            cut -= 1
    return cut


def fit(text: str, limit: int, *, field: str = "text") -> str:
    """Return `text` if it fits in `limit` characters, else cut on a character boundary and end with "…".

    For text we don't control (names, API strings), where sending a shortened message beats failing.
    The warning carries the field and the lengths, never the text (it may be personal data).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    kept = text[: _boundary(text, limit - len(ELLIPSIS))].rstrip()
    result = kept + ELLIPSIS
    log.warning("message_truncated", field=field, length=len(text), limit=limit, kept=len(result))
    return result


# --- models -------------------------------------------------------------------------------------------


def _address(recipient: str) -> dict[str, str]:
    """`to` for a phone number (wa_id), `recipient` for a business-scoped user id such as `US.1349...`."""
    digits = recipient.removeprefix("+")
    if digits.isascii() and digits.isdigit():
        return {"to": digits}
    if not recipient.strip():
        raise ValueError("recipient is empty")
    return {"recipient": recipient}


def _envelope(recipient: str, type_: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **_address(recipient),
        "type": type_,
        type_: content,
    }


def _interactive_extras(header: str | None, footer: str | None) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if header is not None:
        extras["header"] = {"type": "text", "text": header}
    if footer is not None:
        extras["footer"] = {"text": footer}
    return extras


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} must be unique, {value!r} repeats")
        seen.add(value)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Message):
    kind: Literal["text"] = "text"
    body: str = Field(min_length=1, max_length=TEXT_BODY_MAX)
    preview_url: bool = False

    @classmethod
    def safe(cls, body: str, *, preview_url: bool = False) -> Text:
        return cls(body=fit(body, TEXT_BODY_MAX, field="text.body"), preview_url=preview_url)

    def to_payload(self, recipient: str) -> dict[str, Any]:
        return _envelope(recipient, "text", {"preview_url": self.preview_url, "body": self.body})


class Button(_Message):
    id: str = Field(min_length=1, max_length=BUTTON_ID_MAX)
    title: str = Field(min_length=1, max_length=BUTTON_TITLE_MAX)

    @classmethod
    def safe(cls, id: str, title: str) -> Button:
        return cls(id=id, title=fit(title, BUTTON_TITLE_MAX, field="button.title"))

    def to_json(self) -> dict[str, Any]:
        return {"type": "reply", "reply": {"id": self.id, "title": self.title}}


class ReplyButtons(_Message):
    kind: Literal["buttons"] = "buttons"
    body: str = Field(min_length=1, max_length=INTERACTIVE_BODY_MAX)
    buttons: tuple[Button, ...] = Field(min_length=1, max_length=BUTTONS_MAX)
    header: str | None = Field(default=None, min_length=1, max_length=HEADER_MAX)
    footer: str | None = Field(default=None, min_length=1, max_length=FOOTER_MAX)

    @model_validator(mode="after")
    def _unique_buttons(self) -> ReplyButtons:
        """Titles must be unique (Cloud API rule); ids too, or two replies could not be told apart."""
        _unique([b.title for b in self.buttons], "button titles")
        _unique([b.id for b in self.buttons], "button ids")
        return self

    def to_payload(self, recipient: str) -> dict[str, Any]:
        return _envelope(
            recipient,
            "interactive",
            {
                "type": "button",
                **_interactive_extras(self.header, None),
                "body": {"text": self.body},
                **_interactive_extras(None, self.footer),
                "action": {"buttons": [b.to_json() for b in self.buttons]},
            },
        )


class Row(_Message):
    id: str = Field(min_length=1, max_length=ROW_ID_MAX)
    title: str = Field(min_length=1, max_length=ROW_TITLE_MAX)
    description: str | None = Field(default=None, min_length=1, max_length=ROW_DESCRIPTION_MAX)

    @classmethod
    def safe(cls, id: str, title: str, description: str | None = None) -> Row:
        if description:
            description = fit(description, ROW_DESCRIPTION_MAX, field="row.description")
        return cls(id=id, title=fit(title, ROW_TITLE_MAX, field="row.title"), description=description or None)

    def to_json(self) -> dict[str, str]:
        row = {"id": self.id, "title": self.title}
        if self.description is not None:
            row["description"] = self.description
        return row


class Section(_Message):
    title: str | None = Field(default=None, min_length=1, max_length=SECTION_TITLE_MAX)
    rows: tuple[Row, ...] = Field(min_length=1, max_length=ROWS_MAX)

    def to_json(self) -> dict[str, Any]:
        section: dict[str, Any] = {} if self.title is None else {"title": self.title}
        section["rows"] = [row.to_json() for row in self.rows]
        return section


class ListMessage(_Message):
    kind: Literal["list"] = "list"
    body: str = Field(min_length=1, max_length=INTERACTIVE_BODY_MAX)
    button: str = Field(min_length=1, max_length=LIST_BUTTON_MAX)
    sections: tuple[Section, ...] = Field(min_length=1, max_length=SECTIONS_MAX)
    header: str | None = Field(default=None, min_length=1, max_length=HEADER_MAX)
    footer: str | None = Field(default=None, min_length=1, max_length=FOOTER_MAX)

    @model_validator(mode="after")
    def _rows_across_sections(self) -> ListMessage:
        """The row limit and id uniqueness apply to the whole list; several sections each need a title."""
        rows = [row for section in self.sections for row in section.rows]
        if len(rows) > ROWS_MAX:
            raise ValueError(f"a list holds at most {ROWS_MAX} rows across all sections, got {len(rows)}")
        _unique([row.id for row in rows], "row ids")
        if len(self.sections) > 1 and any(s.title is None for s in self.sections):
            raise ValueError("every section needs a title when there is more than one")
        return self

    def to_payload(self, recipient: str) -> dict[str, Any]:
        return _envelope(
            recipient,
            "interactive",
            {
                "type": "list",
                **_interactive_extras(self.header, None),
                "body": {"text": self.body},
                **_interactive_extras(None, self.footer),
                "action": {"button": self.button, "sections": [s.to_json() for s in self.sections]},
            },
        )


class Template(_Message):
    """A pre-approved template: the only thing that may be sent outside the 24-hour window (131047).

    A quick-reply button's title is fixed at approval; what comes back when it is tapped (`button.payload`) is
    chosen per send: `quick_reply_payloads[i]` for the button at index i, sent as a `button` component."""

    kind: Literal["template"] = "template"
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}(_[A-Za-z]{2,4})?$")
    body_parameters: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    quick_reply_payloads: tuple[Annotated[str, Field(min_length=1, max_length=TEMPLATE_PAYLOAD_MAX)], ...] = Field(
        default=(), max_length=TEMPLATE_BUTTONS_MAX
    )

    @model_validator(mode="after")
    def _plain_parameters(self) -> Template:
        """The Graph API refuses (132018) parameters with newlines, tabs or more than 4 spaces in a row."""
        for p in self.body_parameters:
            if "\n" in p or "\t" in p or "     " in p:
                raise ValueError("template parameters cannot hold newlines, tabs or 5 spaces in a row")
        return self

    @model_validator(mode="after")
    def _fits_the_approved_template(self) -> Template:
        """For a template whose approved text we keep: no payload for a button it does not have (132000), and
        the body as sent within 1,024 characters (Meta refuses a longer one when sending, not when building)."""
        approved = APPROVED.get(self.name)
        if approved is None or approved.language != self.language:
            return self
        if len(self.quick_reply_payloads) > len(approved.quick_replies):
            raise ValueError(
                f"{self.name} has {len(approved.quick_replies)} quick-reply button(s), "
                f"got {len(self.quick_reply_payloads)} payloads"
            )
        if self.body_parameters and len(approved.render(self.body_parameters)) > TEMPLATE_BODY_MAX:
            raise ValueError(f"{self.name}'s body with these parameters is over {TEMPLATE_BODY_MAX} characters")
        return self

    def to_payload(self, recipient: str) -> dict[str, Any]:
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        components: list[dict[str, Any]] = []
        if self.body_parameters:
            parameters = [{"type": "text", "text": p} for p in self.body_parameters]
            components.append({"type": "body", "parameters": parameters})
        for index, payload in enumerate(self.quick_reply_payloads):
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": payload}],
                }
            )
        if components:
            template["components"] = components
        return _envelope(recipient, "template", template)


class RequestContactInfo(_Message):
    """Asks the person to share their own phone number: WhatsApp shows the body with a *Share phone number*
    button of its own; a tap sends back a `contacts` message whose card has `origin: contact_request` and the
    number WhatsApp holds for them. For people whose number is hidden (a username, no `wa_id`): the only number
    the bot can trust from them, since a typed one could be anyone's. Within the 24-hour window only."""

    kind: Literal["request_contact_info"] = "request_contact_info"
    body: str = Field(min_length=1, max_length=INTERACTIVE_BODY_MAX)

    def to_payload(self, recipient: str) -> dict[str, Any]:
        return _envelope(
            recipient,
            "interactive",
            {"type": "request_contact_info", "body": {"text": self.body}, "action": {"name": "request_contact_info"}},
        )


class MarkRead(_Message):
    """Marks an inbound message read (blue ticks); the Graph API answers `{"success": true}`, no wamid."""

    kind: Literal["mark_read"] = "mark_read"
    message_id: str = Field(min_length=1, max_length=256)
    typing: bool = False
    """Also show the typing indicator (until the reply, at most 25 s): one call does both (PROTOCOL.md)."""

    def to_payload(self, recipient: str) -> dict[str, Any]:
        """`recipient` is unused: the wamid identifies the conversation."""
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": self.message_id}
        if self.typing:
            payload["typing_indicator"] = {"type": "text"}
        return payload


AnyMessage = Text | ReplyButtons | ListMessage | Template | RequestContactInfo | MarkRead
OutboundMessage = Annotated[AnyMessage, Field(discriminator="kind")]
"""Any outbound message; `kind` selects the model when reading JSON back."""

OUTBOUND_MESSAGE: TypeAdapter[OutboundMessage] = TypeAdapter(OutboundMessage)
OUTBOUND_MESSAGES: TypeAdapter[list[OutboundMessage]] = TypeAdapter(list[OutboundMessage])
