"""WHATSAPP_API_VERSION: the default is a Graph API version Meta serves well past 2027, and what we send and read
has the shapes of that version (facts from shared/whatsapp/PROTOCOL.md, sections 4 to 6)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import httpx

from app.config import WHATSAPP_API_VERSION, Settings
from app.whatsapp.inbound import InboundMessage, InboundStatus, parse_body, parse_updates
from app.whatsapp.messages import Button, MarkRead, ReplyButtons, Template, Text
from app.whatsapp.outbound import CloudApiClient
from tests.conftest import SHARED

PROTOCOL = SHARED / "whatsapp" / "PROTOCOL.md"
PAYLOADS = SHARED / "whatsapp" / "payloads"
PNID = "1122334455667"


def served_until() -> dict[str, date | None]:
    """Each version of PROTOCOL.md's changelog line with the date Meta serves it until (None: the newest ones)."""
    line = next(line for line in PROTOCOL.read_text().splitlines() if line.startswith("- Graph API versions:"))
    versions: dict[str, date | None] = {}
    for version, facts in re.findall(r"(v\d+\.\d+) \(([^)]*)\)", line):
        until = re.search(r"until (\d{1,2} \w{3} \d{4})", facts)
        versions[version] = datetime.strptime(until.group(1), "%d %b %Y").date() if until else None
    assert len(versions) >= 5, line
    return versions


def test_the_default_version_is_served_well_past_2027() -> None:
    versions = served_until()
    assert WHATSAPP_API_VERSION in versions
    until = versions[WHATSAPP_API_VERSION]
    assert until is None or until >= date(2028, 1, 1), f"{WHATSAPP_API_VERSION} is served only until {until}"
    assert Settings(app_env="development").whatsapp_api_version == WHATSAPP_API_VERSION


async def test_sends_go_to_the_versioned_messages_edge_and_read_its_answer() -> None:
    seen: list[httpx.Request] = []

    def graph(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"messaging_product": "whatsapp", "contacts": [{"input": "263770000001", "wa_id": "263770000001"}]}
        return httpx.Response(200, json={**body, "messages": [{"id": "wamid.v25"}]})

    settings = Settings(app_env="development", whatsapp_access_token="token", whatsapp_phone_number_id=PNID)
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
        client = CloudApiClient.from_settings(settings, client=http)
        result = await client.send("263770000001", Text(body="Hello"))
    assert result.ok and result.message_id == "wamid.v25"
    [request] = seen
    assert str(request.url) == f"https://graph.facebook.com/{WHATSAPP_API_VERSION}/{PNID}/messages"
    assert request.headers["authorization"] == "Bearer token"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "263770000001",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello"},
    }


def test_outbound_shapes_are_those_of_the_version() -> None:
    # A business-scoped user id is addressed with `recipient` instead of `to` (from April 2026).
    assert Text(body="hi").to_payload("US.13491208655302741918")["recipient"] == "US.13491208655302741918"
    assert MarkRead(message_id="wamid.x").to_payload("263770000001") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.x",
    }
    buttons = ReplyButtons(body="Sure?", buttons=(Button(id="yes", title="Yes"),)).to_payload("263770000001")
    assert buttons["interactive"]["action"] == {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}
    template = Template(name="credex_notification", language="en", body_parameters=("Bob", "Hi")).to_payload("1")
    assert template["template"] == {
        "name": "credex_notification",
        "language": {"code": "en"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Bob"}, {"type": "text", "text": "Hi"}]}
        ],
    }


def _updates(name: str) -> list[Any]:
    return parse_updates(parse_body((PAYLOADS / name).read_bytes()))


def test_inbound_shapes_of_the_version_are_read() -> None:
    # contacts[].user_id and messages[].from_user_id (business-scoped user ids) come with the current versions.
    [text] = _updates("text_01.json")
    assert isinstance(text, InboundMessage) and text.channel_id == "972987654321" and text.text == "Body Text"
    [button] = _updates("button_quick_reply_no_context_01.json")
    assert isinstance(button, InboundMessage) and button.reply_id == "callback_data"
    raw = json.loads((PAYLOADS / "text_01.json").read_text())
    message = raw["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["from"]  # a person with a username: no wa_id, only the business-scoped id
    message["from_user_id"] = "US.13491208655302741918"
    raw["entry"][0]["changes"][0]["value"]["contacts"][0].pop("wa_id")
    [hidden] = parse_updates(parse_body(json.dumps(raw).encode()))
    assert isinstance(hidden, InboundMessage) and hidden.channel_id == "US.13491208655302741918"
    [status] = _updates("status_delivered_01.json")
    assert isinstance(status, InboundStatus) and status.status == "delivered"
