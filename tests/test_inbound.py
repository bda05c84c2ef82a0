"""Inbound webhook parsing against every real payload in shared/whatsapp/payloads, plus synthetic edge cases.

Each payload file has one row in EXPECTED stating every update it must yield; a file without a row fails
`test_every_payload_file_has_an_expectation`, so a payload added later cannot go untested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from structlog.testing import capture_logs

from app.whatsapp.inbound import (
    InboundError,
    InboundMessage,
    InboundStatus,
    InboundUpdate,
    InvalidPayload,
    WebhookPayload,
    parse_body,
    parse_updates,
)
from tests.conftest import SHARED

PAYLOADS = SHARED / "whatsapp" / "payloads"

WA = "972987654321"
BSUID = "US.13491208655302741918"
PNID = "1122334455667"


@dataclass(frozen=True)
class Msg:
    type: str
    message_id: str
    timestamp: int | None
    text: str | None = None
    reply_id: str | None = None
    reply_title: str | None = None
    input_text: str | None = None
    channel_id: str = WA
    profile_name: str | None = "Test Name"


@dataclass(frozen=True)
class St:
    status: str
    timestamp: int | None
    error_codes: tuple[int | None, ...] = ()
    message_id: str = "wamid.xyzxyz"
    channel_id: str | None = WA


@dataclass(frozen=True)
class Err:
    code: int | None
    title: str | None
    details: str | None


Check = Callable[[list[InboundUpdate], WebhookPayload], None]


@dataclass(frozen=True)
class Row:
    updates: tuple[Msg | St | Err, ...]
    check: Check | None = None


def _raw(updates: list[InboundUpdate], i: int = 0) -> Any:
    u = updates[i]
    assert isinstance(u, InboundMessage | InboundStatus)
    return u.raw


def _check_reply_context(u: list[InboundUpdate], _: WebhookPayload) -> None:
    ctx = _raw(u).context
    assert (ctx.from_, ctx.id, ctx.forwarded) == ("972123456789", "wamid.xyzxyz==", None)


def _check_forwarded(u: list[InboundUpdate], _: WebhookPayload) -> None:
    ctx = _raw(u).context
    assert ctx.forwarded is True
    assert ctx.id is None


def _check_referral(u: list[InboundUpdate], _: WebhookPayload) -> None:
    ref = _raw(u).referral
    assert (ref.source_type, ref.source_id, ref.ctwa_clid) == ("ad or post", "ADID", "CTWA_CLID")
    assert (ref.headline, ref.body, ref.source_url) == ("AD_TITLE", "AD_DESCRIPTION", "AD_OR_POST_FB_URL")
    assert ref.model_extra["thumbnail_url"] == "RAW_THUMBNAIL_URL"  # untyped fields survive


def _check_image(u: list[InboundUpdate], _: WebhookPayload) -> None:
    img = _raw(u).image
    assert (img.id, img.mime_type, img.caption) == ("65463453", "image/jpeg", None)


def _check_document(u: list[InboundUpdate], _: WebhookPayload) -> None:
    raw = _raw(u)
    assert (raw.document.filename, raw.document.mime_type) == ("filename.pdf", "application/pdf")
    assert raw.context.forwarded is True


def _check_audio(u: list[InboundUpdate], _: WebhookPayload) -> None:
    audio = _raw(u).audio
    assert (audio.id, audio.voice, audio.mime_type) == ("1234567890987654321", True, "audio/ogg; codecs=opus")


def _check_sticker(u: list[InboundUpdate], _: WebhookPayload) -> None:
    assert _raw(u).sticker.animated is False


def _check_location(u: list[InboundUpdate], _: WebhookPayload) -> None:
    loc = _raw(u).location
    assert (loc.latitude, loc.longitude, loc.name) == (12.25089, 43.90539, None)


def _check_reaction(u: list[InboundUpdate], _: WebhookPayload) -> None:
    reaction = _raw(u).reaction
    assert reaction.emoji == ""  # removed reaction: empty string, not absent
    assert reaction.message_id == "wamid.yzxyzx="


def _check_unsupported(u: list[InboundUpdate], _: WebhookPayload) -> None:
    msg = u[0]
    assert isinstance(msg, InboundMessage)
    assert [(e.code, e.title, e.details) for e in msg.errors] == [
        (131051, "Message type unknown", "Message type is currently not supported.")
    ]
    assert msg.raw.unsupported == {"type": "pool"}


def _check_missing_interactive(u: list[InboundUpdate], _: WebhookPayload) -> None:
    raw = _raw(u)
    assert raw.interactive is None
    assert raw.context.id == "wamid.gvwegfretge=="


def _check_list(u: list[InboundUpdate], _: WebhookPayload) -> None:
    assert _raw(u).interactive.list_reply.description == "description"


def _check_quick_reply(u: list[InboundUpdate], _: WebhookPayload) -> None:
    assert _raw(u).context.id == "wamid.xyzxyz=="


def _check_quick_reply_no_context(u: list[InboundUpdate], _: WebhookPayload) -> None:
    raw = _raw(u)
    assert raw.context is None
    assert raw.from_user_id == BSUID


def _check_nfm(u: list[InboundUpdate], _: WebhookPayload) -> None:
    nfm = _raw(u).interactive.nfm_reply
    assert isinstance(nfm.response_json, str)
    assert nfm.name == "flow"
    assert nfm.response == {
        "comment_text": "Comment Text",
        "delivery_rating": "4",
        "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
        "purchase_rating": "2",
        "recommend_radio": "0",
        "cs_rating": "0",
    }


def _check_changed_number(u: list[InboundUpdate], payload: WebhookPayload) -> None:
    assert payload.entry[0].changes[0].value.contacts == []  # system messages carry no contacts[]
    system = _raw(u).system
    assert (system.type, system.wa_id) == ("user_changed_number", "972912345678")


def _check_identity(u: list[InboundUpdate], _: WebhookPayload) -> None:
    raw = _raw(u)
    assert raw.system.type == "customer_identity_changed"
    assert raw.model_extra["identity"]["hash"] == "xyzxyz"


def _status_check(biz_opaque: str | None) -> Check:
    def check(u: list[InboundUpdate], _: WebhookPayload) -> None:
        raw = _raw(u)
        assert raw.biz_opaque_callback_data == biz_opaque
        assert raw.recipient_user_id is None
        assert raw.conversation["id"] == "7270432eae37498234f4444b35ffc5"
        assert raw.pricing == {"billable": True, "pricing_model": "CBP", "category": "service"}

    return check


def _check_failed(u: list[InboundUpdate], _: WebhookPayload) -> None:
    st = u[0]
    assert isinstance(st, InboundStatus)
    err = st.errors[0]
    assert err.title == "User's number is part of an experiment"
    assert err.details == "Failed to send message because this user's phone number is part of an experiment"
    assert err.href == "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


EXPECTED: dict[str, Row] = {
    "text_01.json": Row((Msg("text", "wamid.xyzxyz", 1697043223, text="Body Text", input_text="Body Text"),)),
    "text_reply_context_01.json": Row(
        (Msg("text", "wamid.xyzxyz", 1697044746, text="replied text", input_text="replied text"),),
        _check_reply_context,
    ),
    "text_forwarded_01.json": Row(
        (Msg("text", "wamid.xyzxyz", 1697044815, text="forwarded text", input_text="forwarded text"),),
        _check_forwarded,
    ),
    "text_referral_ad_01.json": Row(
        (Msg("text", "wamid.ID", 1697045000, text="BODY", input_text="BODY"),), _check_referral
    ),
    "image_01.json": Row((Msg("image", "wamid.xyzxyz", 1697043379),), _check_image),
    "document_01.json": Row(
        (Msg("document", "wamid.xyzxyz", 1697043666, text="caption", input_text="caption"),), _check_document
    ),
    "audio_voice_01.json": Row((Msg("audio", "wamid.xyzxyz", 1697043473),), _check_audio),
    "sticker_01.json": Row((Msg("sticker", "wamid.xyzxyz", 1697043760),), _check_sticker),
    "location_01.json": Row((Msg("location", "wamid.xyzxyz", 1697044557),), _check_location),
    "reaction_removed_01.json": Row((Msg("reaction", "wamid.xyzxyz", 1697044456),), _check_reaction),
    "unsupported_01.json": Row((Msg("unsupported", "wamid.xyzxyz", 1697044706),), _check_unsupported),
    "interactive_missing_body_value_error_01.json": Row(
        (
            Msg("interactive", "wamid.wegrchytvwcggt=", 1700505494),
            Err(131000, "Something went wrong", "Unsupported webhook payload"),
        ),
        _check_missing_interactive,
    ),
    "interactive_button_reply_01.json": Row(
        (
            Msg(
                "interactive",
                "wamid.xyzxyz",
                1698266730,
                reply_id="callback_data",
                reply_title="title",
                input_text="callback_data",
            ),
        ),
    ),
    "interactive_list_reply_01.json": Row(
        (
            Msg(
                "interactive",
                "wamid.zyzxyz",
                1698266905,
                reply_id="callback_data",
                reply_title="title",
                input_text="callback_data",
            ),
        ),
        _check_list,
    ),
    "interactive_nfm_reply_01.json": Row(
        (
            Msg(
                "interactive",
                "wamid.wegrchytvwcggt==",
                1702502473,
                reply_id="AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
                reply_title="Sent",
                input_text="AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
            ),
        ),
        _check_nfm,
    ),
    "button_quick_reply_01.json": Row(
        (
            Msg(
                "button",
                "wamid.xsidjw",
                1698269027,
                reply_id="callback_data",
                reply_title="title",
                input_text="callback_data",
            ),
        ),
        _check_quick_reply,
    ),
    "button_quick_reply_no_context_01.json": Row(
        (
            Msg(
                "button",
                "wamid.xsidjx",
                1698269027,
                reply_id="callback_data",
                reply_title="title",
                input_text="callback_data",
            ),
        ),
        _check_quick_reply_no_context,
    ),
    "system_user_changed_number_01.json": Row(
        (Msg("system", "wamid.xyzxyz==", 1753851315, profile_name=None),), _check_changed_number
    ),
    "system_identity_changed_01.json": Row(
        (Msg("system", "wamid.xyzxyz", 1697044706, profile_name="User A"),), _check_identity
    ),
    "status_sent_01.json": Row((St("sent", 1698266945),), _status_check(None)),
    "status_delivered_01.json": Row((St("delivered", 1698266945),), _status_check(None)),
    "status_played_01.json": Row((St("played", 1689380458),), _status_check(None)),
    "status_failed_01.json": Row((St("failed", 1689380458, error_codes=(130472,)),), _check_failed),
    "status_sent_biz_opaque_01.json": Row((St("sent", 1698266945),), _status_check("some data")),
}


def _payload_files() -> set[str]:
    assert PAYLOADS.is_dir(), f"payload directory {PAYLOADS} not found (set SHARED_DIR)"
    return {p.name for p in PAYLOADS.glob("*.json")}


def test_every_payload_file_has_an_expectation() -> None:
    files = _payload_files()
    assert files - EXPECTED.keys() == set(), "payload files without an EXPECTED row"
    assert EXPECTED.keys() - files == set(), "EXPECTED rows without a payload file"


def _assert_update(actual: InboundUpdate, expected: Msg | St | Err) -> None:
    if isinstance(expected, Msg):
        assert isinstance(actual, InboundMessage)
        got = Msg(
            type=actual.type,
            message_id=actual.message_id,
            timestamp=actual.timestamp,
            text=actual.text,
            reply_id=actual.reply_id,
            reply_title=actual.reply_title,
            input_text=actual.input_text,
            channel_id=actual.channel_id,
            profile_name=actual.profile_name,
        )
        assert got == expected
        assert actual.phone_number_id == PNID
    elif isinstance(expected, St):
        assert isinstance(actual, InboundStatus)
        got_st = St(
            status=actual.status,
            timestamp=actual.timestamp,
            error_codes=tuple(e.code for e in actual.errors),
            message_id=actual.message_id,
            channel_id=actual.channel_id,
        )
        assert got_st == expected
    else:
        assert isinstance(actual, InboundError)
        assert Err(code=actual.code, title=actual.title, details=actual.details) == expected


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_payload_file(name: str) -> None:
    path = PAYLOADS / name
    assert path.is_file(), f"{path} missing"
    payload = parse_body(path.read_bytes())
    updates = parse_updates(payload)
    row = EXPECTED[name]
    assert [type(u).__name__ for u in updates] == [
        {Msg: "InboundMessage", St: "InboundStatus", Err: "InboundError"}[type(e)] for e in row.updates
    ]
    for actual, expected in zip(updates, row.updates, strict=True):
        _assert_update(actual, expected)
    if row.check is not None:
        row.check(updates, payload)


# --- synthetic payloads --------------------------------------------------------------------------------


def _text(sender: str, mid: str, body: str) -> dict[str, Any]:
    return {"from": sender, "id": mid, "timestamp": "1700000000", "type": "text", "text": {"body": body}}


def _envelope(*entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": f"waba{i}", "changes": changes} for i, changes in enumerate(entries)],
    }


def _change(
    messages: list[dict[str, Any]], contacts: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": PNID},
        "messages": messages,
        **extra,
    }
    if contacts is not None:
        value["contacts"] = contacts
    return {"field": "messages", "value": value}


def _parse(data: dict[str, Any]) -> list[InboundUpdate]:
    return parse_updates(parse_body(orjson.dumps(data)))


ALICE, BOB = "263770000001", "263770000002"
PEOPLE = [{"profile": {"name": "Alice"}, "wa_id": ALICE}, {"profile": {"name": "Bob"}, "wa_id": BOB}]


def _summary(u: InboundUpdate) -> tuple[str, str | None, str | None, str | None]:
    if isinstance(u, InboundMessage):
        return (u.message_id, u.channel_id, u.profile_name, u.input_text)
    assert isinstance(u, InboundStatus)
    return (u.message_id, u.channel_id, None, u.status)


def test_batch_of_entries_and_changes_keeps_every_update_in_order() -> None:
    data = _envelope(
        [
            _change([_text(BOB, "m1", "b1"), _text(ALICE, "m2", "a1"), _text(BOB, "m3", "b2")], PEOPLE),
            _change(
                [_text(ALICE, "m4", "a2")],
                PEOPLE,
                statuses=[{"id": "out1", "status": "read", "timestamp": "1", "recipient_id": BOB}],
            ),
        ],
        [
            # not user input, even though it carries messages: must not be read as such
            {"field": "smb_message_echoes", "value": {"messages": [_text(ALICE, "echo1", "x")]}},
            _change([_text(ALICE, "m5", "a3"), _text(BOB, "m6", "b3")], list(reversed(PEOPLE))),
            _change([_text(BOB, "m7", "b4")], PEOPLE),
        ],
    )
    updates = _parse(data)
    assert [_summary(u) for u in updates] == [
        ("m1", BOB, "Bob", "b1"),
        ("m2", ALICE, "Alice", "a1"),
        ("m3", BOB, "Bob", "b2"),
        ("m4", ALICE, "Alice", "a2"),
        ("out1", BOB, None, "read"),
        ("m5", ALICE, "Alice", "a3"),  # contacts listed in the other order: matched by id, not position
        ("m6", BOB, "Bob", "b3"),
        ("m7", BOB, "Bob", "b4"),
    ]


def test_unknown_message_type_and_fields_are_tolerated() -> None:
    msg = {
        "from": ALICE,
        "id": "m1",
        "timestamp": "1700000000",
        "type": "futuristic",
        "futuristic": {"hologram": {"id": "h1"}, "depth": 3},
        "brand_new_field": [1, 2],
    }
    odd_interactive = {
        "from": ALICE,
        "id": "m2",
        "type": "interactive",
        "interactive": {"type": "call_permission_reply", "call_permission_reply": {"ok": 1}},
    }
    data = _envelope([_change([msg, odd_interactive], PEOPLE, new_value_field={"x": 1})])
    data["entry"][0]["new_entry_field"] = True
    data["unknown_top"] = "yes"
    first, second = _parse(data)
    assert isinstance(first, InboundMessage)
    assert (first.type, first.channel_id, first.text, first.input_text) == ("futuristic", ALICE, None, None)
    assert first.raw.model_extra is not None
    assert first.raw.model_extra["futuristic"] == {"hologram": {"id": "h1"}, "depth": 3}
    assert isinstance(second, InboundMessage)
    assert (second.type, second.reply_id, second.timestamp) == ("interactive", None, None)


def test_message_with_only_from_user_id_uses_bsuid_as_channel() -> None:
    msg = {"from_user_id": "US.42", "id": "m1", "timestamp": "1", "type": "text", "text": {"body": "hi"}}
    contacts = [{"profile": {"name": "Carol", "username": "@carol"}, "user_id": "US.42"}]
    status = {"id": "out1", "status": "delivered", "timestamp": "2", "recipient_user_id": "US.42"}
    updates = _parse(_envelope([_change([msg], contacts, statuses=[status])]))
    msg_update, status_update = updates
    assert isinstance(msg_update, InboundMessage)
    assert (msg_update.channel_id, msg_update.profile_name) == ("US.42", "Carol")
    assert isinstance(status_update, InboundStatus)
    assert status_update.channel_id == "US.42"

    (no_contacts,) = _parse(_envelope([_change([msg])]))
    assert isinstance(no_contacts, InboundMessage)
    assert (no_contacts.channel_id, no_contacts.profile_name) == ("US.42", None)


def test_message_without_ids_falls_back_to_the_sole_contact() -> None:
    msg = {"id": "m1", "type": "text", "text": {"body": "hi"}}
    (update,) = _parse(_envelope([_change([msg], [{"user_id": "US.7", "profile": {"name": "Dan"}}])]))
    assert isinstance(update, InboundMessage)
    assert (update.channel_id, update.profile_name) == ("US.7", "Dan")


def test_message_without_channel_is_skipped_with_a_warning_and_the_rest_survive() -> None:
    orphan = {"id": "m1", "type": "text", "text": {"body": "who am I"}}
    with capture_logs() as logs:
        updates = _parse(_envelope([_change([orphan, _text(ALICE, "m2", "ok")], PEOPLE)]))
    assert [u.message_id for u in updates if isinstance(u, InboundMessage)] == ["m2"]
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [(w["event"], w["message_id"]) for w in warnings] == [("whatsapp_message_skipped", "m1")]


def test_null_lists_and_odd_timestamps_do_not_fail() -> None:
    msg = {"from": ALICE, "id": "m1", "timestamp": "soon", "type": "text", "text": {"body": "x"}}
    (update,) = _parse(_envelope([_change([msg], None, statuses=None, errors=None)]))
    assert isinstance(update, InboundMessage)
    assert update.timestamp is None
    assert update.profile_name is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[]",
        b'"whatsapp_business_account"',
        b'{"object": "page", "entry": []}',
        b'{"entry": []}',
        b'{"object": "whatsapp_business_account"}',
        b'{"object": "whatsapp_business_account", "entry": {}}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": "x"}}]}]}',
    ],
)
def test_invalid_bodies_raise_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        parse_body(body)


def test_shape_error_message_does_not_echo_input_values() -> None:
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": ALICE}}]}]}
    with pytest.raises(InvalidPayload, match=r"entry\.0\.changes\.0\.value\.messages") as info:
        parse_body(orjson.dumps(body))
    assert ALICE not in str(info.value)


def test_invalid_payload_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="object must be"):
        parse_body(b'{"object": "instagram", "entry": []}')
