"""Outbound message models: every Cloud API limit on both sides, the exact payloads, the JSON round trip."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from app.masking import mask_phone
from app.whatsapp.messages import (
    ELLIPSIS,
    OUTBOUND_MESSAGE,
    OUTBOUND_MESSAGES,
    Button,
    ListMessage,
    MarkRead,
    OutboundMessage,
    ReplyButtons,
    Row,
    Section,
    Template,
    Text,
    fit,
)

PHONE = "263771234567"
BSUID = "US.13491208655302741918"


def buttons(n: int) -> list[Button]:
    return [Button(id=f"b{i}", title=f"Option {i}") for i in range(n)]


def rows(n: int, prefix: str = "r") -> list[Row]:
    return [Row(id=f"{prefix}{i}", title=f"Row {i}") for i in range(n)]


# --- Text ---------------------------------------------------------------------------------------------


def test_text_body_4096_fits_4097_fails() -> None:
    assert len(Text(body="x" * 4096).body) == 4096
    with pytest.raises(ValidationError):
        Text(body="x" * 4097)


def test_text_body_cannot_be_empty() -> None:
    with pytest.raises(ValidationError):
        Text(body="")


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Text(body="hi", preview=True)  # type: ignore[call-arg]


def test_text_payload() -> None:
    assert Text(body="Hello *there*", preview_url=True).to_payload(PHONE) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "text",
        "text": {"preview_url": True, "body": "Hello *there*"},
    }


def test_bsuid_recipient_uses_recipient_not_to() -> None:
    payload = Text(body="hi").to_payload(BSUID)
    assert payload["recipient"] == BSUID
    assert "to" not in payload
    assert payload["recipient_type"] == "individual"


def test_plus_prefixed_number_is_sent_as_digits() -> None:
    assert Text(body="hi").to_payload("+" + PHONE)["to"] == PHONE


def test_empty_recipient_is_refused() -> None:
    with pytest.raises(ValueError):
        Text(body="hi").to_payload(" ")


def test_text_safe_truncates_long_body() -> None:
    text = Text.safe("y" * 5000)
    assert len(text.body) == 4096
    assert text.body.endswith(ELLIPSIS)
    assert Text.safe("short").body == "short"


# --- Reply buttons ------------------------------------------------------------------------------------


def test_button_title_20_fits_21_fails() -> None:
    Button(id="a", title="t" * 20)
    with pytest.raises(ValidationError):
        Button(id="a", title="t" * 21)


def test_button_title_cannot_be_empty() -> None:
    with pytest.raises(ValidationError):
        Button(id="a", title="")


def test_button_id_256_fits_257_fails() -> None:
    Button(id="i" * 256, title="ok")
    with pytest.raises(ValidationError):
        Button(id="i" * 257, title="ok")


def test_three_buttons_fit_four_fail() -> None:
    ReplyButtons(body="Pick", buttons=buttons(3))
    with pytest.raises(ValidationError):
        ReplyButtons(body="Pick", buttons=buttons(4))


def test_zero_buttons_fail() -> None:
    with pytest.raises(ValidationError):
        ReplyButtons(body="Pick", buttons=[])


def test_duplicate_button_titles_fail() -> None:
    with pytest.raises(ValidationError, match="titles must be unique"):
        ReplyButtons(body="Pick", buttons=[Button(id="a", title="Same"), Button(id="b", title="Same")])


def test_duplicate_button_ids_fail() -> None:
    with pytest.raises(ValidationError, match="ids must be unique"):
        ReplyButtons(body="Pick", buttons=[Button(id="a", title="One"), Button(id="a", title="Two")])


def test_interactive_body_1024_fits_1025_fails() -> None:
    ReplyButtons(body="b" * 1024, buttons=buttons(1))
    with pytest.raises(ValidationError):
        ReplyButtons(body="b" * 1025, buttons=buttons(1))


@pytest.mark.parametrize("field", ["header", "footer"])
def test_button_header_and_footer_60_fit_61_fail(field: str) -> None:
    ReplyButtons(body="b", buttons=buttons(1), **{field: "h" * 60})
    with pytest.raises(ValidationError):
        ReplyButtons(body="b", buttons=buttons(1), **{field: "h" * 61})


def test_reply_buttons_payload() -> None:
    message = ReplyButtons(
        body="Confirm the payment?",
        buttons=[Button(id="yes", title="Yes"), Button(id="no", title="No")],
        header="Payment",
        footer="credex",
    )
    assert message.to_payload(PHONE) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Payment"},
            "body": {"text": "Confirm the payment?"},
            "footer": {"text": "credex"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "no", "title": "No"}},
                ]
            },
        },
    }


def test_reply_buttons_payload_without_header_or_footer() -> None:
    interactive = ReplyButtons(body="b", buttons=buttons(1)).to_payload(PHONE)["interactive"]
    assert set(interactive) == {"type", "body", "action"}


def test_button_safe_truncates_title() -> None:
    assert Button.safe("id", "A very long member name here").title == "A very long member…"


# --- List ---------------------------------------------------------------------------------------------


def test_ten_rows_across_two_sections_fit_eleven_fail() -> None:
    ListMessage(
        body="Choose",
        button="Menu",
        sections=[Section(title="A", rows=rows(5, "a")), Section(title="B", rows=rows(5, "b"))],
    )
    with pytest.raises(ValidationError, match="at most 10 rows"):
        ListMessage(
            body="Choose",
            button="Menu",
            sections=[Section(title="A", rows=rows(5, "a")), Section(title="B", rows=rows(6, "b"))],
        )


def test_eleven_rows_in_one_section_fail() -> None:
    with pytest.raises(ValidationError):
        Section(title="A", rows=rows(11))


def test_ten_sections_fit_eleven_fail() -> None:
    def sections(n: int) -> list[Section]:
        return [Section(title=f"S{i}", rows=[Row(id=f"r{i}", title="x")]) for i in range(n)]

    ListMessage(body="b", button="Menu", sections=sections(10))
    with pytest.raises(ValidationError):
        ListMessage(body="b", button="Menu", sections=sections(11))


def test_list_needs_a_section_and_sections_need_rows() -> None:
    with pytest.raises(ValidationError):
        ListMessage(body="b", button="Menu", sections=[])
    with pytest.raises(ValidationError):
        Section(title="A", rows=[])


def test_duplicate_row_ids_across_sections_fail() -> None:
    with pytest.raises(ValidationError, match="row ids must be unique"):
        ListMessage(
            body="b",
            button="Menu",
            sections=[Section(title="A", rows=rows(2)), Section(title="B", rows=rows(1))],
        )


def test_several_sections_each_need_a_title() -> None:
    with pytest.raises(ValidationError, match="needs a title"):
        ListMessage(
            body="b",
            button="Menu",
            sections=[Section(rows=rows(1, "a")), Section(title="B", rows=rows(1, "b"))],
        )
    ListMessage(body="b", button="Menu", sections=[Section(rows=rows(1))])


def test_list_button_text_20_fits_21_fails() -> None:
    ListMessage(body="b", button="m" * 20, sections=[Section(rows=rows(1))])
    with pytest.raises(ValidationError):
        ListMessage(body="b", button="m" * 21, sections=[Section(rows=rows(1))])
    with pytest.raises(ValidationError):
        ListMessage(body="b", button="", sections=[Section(rows=rows(1))])


def test_list_body_1024_fits_1025_fails() -> None:
    ListMessage(body="b" * 1024, button="Menu", sections=[Section(rows=rows(1))])
    with pytest.raises(ValidationError):
        ListMessage(body="b" * 1025, button="Menu", sections=[Section(rows=rows(1))])


@pytest.mark.parametrize("field", ["header", "footer"])
def test_list_header_and_footer_60_fit_61_fail(field: str) -> None:
    ListMessage(body="b", button="Menu", sections=[Section(rows=rows(1))], **{field: "h" * 60})
    with pytest.raises(ValidationError):
        ListMessage(body="b", button="Menu", sections=[Section(rows=rows(1))], **{field: "h" * 61})


def test_section_title_24_fits_25_fails() -> None:
    Section(title="s" * 24, rows=rows(1))
    with pytest.raises(ValidationError):
        Section(title="s" * 25, rows=rows(1))


def test_row_title_24_fits_25_fails() -> None:
    Row(id="r", title="t" * 24)
    with pytest.raises(ValidationError):
        Row(id="r", title="t" * 25)


def test_row_description_72_fits_73_fails() -> None:
    Row(id="r", title="t", description="d" * 72)
    with pytest.raises(ValidationError):
        Row(id="r", title="t", description="d" * 73)


def test_row_id_200_fits_201_fails() -> None:
    Row(id="i" * 200, title="t")
    with pytest.raises(ValidationError):
        Row(id="i" * 201, title="t")


def test_row_safe_truncates_title_and_description() -> None:
    row = Row.safe("r", "t" * 30, "d" * 100)
    assert len(row.title) == 24 and row.title.endswith(ELLIPSIS)
    assert row.description is not None and len(row.description) == 72
    assert Row.safe("r", "t", "").description is None


def test_list_payload() -> None:
    message = ListMessage(
        header="Accounts",
        body="Which account?",
        footer="credex",
        button="Choose",
        sections=[
            Section(title="Personal", rows=[Row(id="acc1", title="Main", description="USD 10.00")]),
            Section(title="Business", rows=[Row(id="acc2", title="Shop")]),
        ],
    )
    assert message.to_payload(PHONE) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "header": {"type": "text", "text": "Accounts"},
            "body": {"text": "Which account?"},
            "footer": {"text": "credex"},
            "action": {
                "button": "Choose",
                "sections": [
                    {
                        "title": "Personal",
                        "rows": [{"id": "acc1", "title": "Main", "description": "USD 10.00"}],
                    },
                    {"title": "Business", "rows": [{"id": "acc2", "title": "Shop"}]},
                ],
            },
        },
    }


# --- Template and mark-read ---------------------------------------------------------------------------


def test_template_payload() -> None:
    message = Template(name="offer_reminder", language="en_US", body_parameters=["Tendai", "USD 5"])
    assert message.to_payload(BSUID) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": BSUID,
        "type": "template",
        "template": {
            "name": "offer_reminder",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Tendai"}, {"type": "text", "text": "USD 5"}],
                }
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    assert "components" not in Template(name="hello_world").to_payload(PHONE)["template"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "Has Spaces"},
        {"name": ""},
        {"name": "ok", "language": "english"},
        {"name": "ok", "body_parameters": [""]},
        {"name": "ok", "body_parameters": ["two\nlines"]},
        {"name": "ok", "body_parameters": ["tab\there"]},
        {"name": "ok", "body_parameters": ["five     spaces"]},
    ],
)
def test_invalid_templates_fail(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Template(**kwargs)


def test_mark_read_payload() -> None:
    assert MarkRead(message_id="wamid.ABC").to_payload(PHONE) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.ABC",
    }


# --- JSON round trip ----------------------------------------------------------------------------------


def test_union_round_trips_through_json() -> None:
    queue: list[OutboundMessage] = [
        Text(body="héllo 👋🏽", preview_url=True),
        ReplyButtons(body="b", buttons=buttons(2), header="h", footer="f"),
        ListMessage(body="b", button="Menu", sections=[Section(title="S", rows=[Row(id="r", title="t")])]),
        Template(name="hello_world", language="en", body_parameters=["x"]),
        MarkRead(message_id="wamid.1"),
    ]
    raw = OUTBOUND_MESSAGES.dump_json(queue)
    assert OUTBOUND_MESSAGES.validate_json(raw) == queue
    for message in queue:
        again = OUTBOUND_MESSAGE.validate_json(message.model_dump_json())
        assert again == message and type(again) is type(message)


def test_json_that_breaks_a_limit_is_refused_on_load() -> None:
    with pytest.raises(ValidationError):
        OUTBOUND_MESSAGE.validate_json('{"kind": "buttons", "body": "b", "buttons": []}')
    with pytest.raises(ValidationError):
        OUTBOUND_MESSAGE.validate_json('{"kind": "video", "body": "b"}')


def test_messages_are_immutable() -> None:
    with pytest.raises(ValidationError):
        Text(body="a").body = "b"  # type: ignore[misc]


# --- fit ----------------------------------------------------------------------------------------------


def test_fit_leaves_short_text_alone_without_logging() -> None:
    with capture_logs() as logs:
        assert fit("exactly20characters!", 20) == "exactly20characters!"
    assert logs == []


def test_fit_cuts_and_logs_lengths_not_text() -> None:
    with capture_logs() as logs:
        result = fit("Tendai Mukamuri-Chigumba", 20, field="button.title")
    assert result == "Tendai Mukamuri-Chi…"
    assert len(result) == 20
    assert logs == [
        {
            "event": "message_truncated",
            "log_level": "warning",
            "field": "button.title",
            "length": 24,
            "limit": 20,
            "kept": 20,
        }
    ]
    assert "Tendai" not in repr(logs)


def test_fit_drops_trailing_space_before_ellipsis() -> None:
    assert fit("abcd efgh", 6) == "abcd…"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("ab👋🏽cd", 4, "ab…"),  # skin-tone modifier stays with its hand
        ("ab👨‍👩‍👧cd", 5, "ab…"),  # ZWJ family is one character
        ("ab👨‍👩‍👧cd", 7, "ab…"),
        ("ab👨‍👩‍👧cd", 8, "ab👨‍👩‍👧…"),
        ("ab🇿🇼🇺🇸", 4, "ab…"),  # a flag is two regional indicators
        ("ab🇿🇼🇺🇸", 5, "ab🇿🇼…"),
        ("ab🇿🇼🇺🇸x", 6, "ab🇿🇼…"),
        ("cafe\u0301s", 5, "caf…"),  # e + combining acute
        ("ab1\ufe0f\u20e3cd", 4, "ab…"),  # keycap
        ("ab❤\ufe0fcd", 4, "ab…"),  # variation selector
        ("ab\ud83d\ude00cd", 4, "ab…"),  # surrogate pair held as two code points
    ],
)
def test_fit_never_splits_a_character(text: str, limit: int, expected: str) -> None:
    result = fit(text, limit)
    assert result == expected
    assert len(result) <= limit


def test_fit_whole_first_character_too_long_gives_ellipsis() -> None:
    assert fit("👨‍👩‍👧‍👦", 3) == ELLIPSIS


def test_fit_rejects_nonpositive_limit() -> None:
    with pytest.raises(ValueError):
        fit("abc", 0)


# --- masking ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("263771234567", "2637****4567"),
        ("US.13491208655302741918", "US.1***************1918"),
        ("123456789", "1234*6789"),
        ("12345678", "******78"),
        ("123", "*23"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked
