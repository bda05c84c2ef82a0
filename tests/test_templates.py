"""Templates: quick-reply payloads sent as Cloud API button components, the approved texts kept in one place and
the README's approval instructions held to those texts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.api.notify import notification
from app.whatsapp.messages import OUTBOUND_MESSAGE, TEMPLATE_BODY_MAX, Template
from app.whatsapp.templates import CREDEX_NOTIFICATION, VIEW_OFFERS_PAYLOAD

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quick_reply_payloads_become_button_components_after_the_body() -> None:
    message = Template(
        name="credex_notification",
        language="en",
        body_parameters=("Demo Bob", "Demo Alice offered you 12.50 USD secured."),
        quick_reply_payloads=("view_offers",),
    )
    assert message.to_payload("263770000002")["template"] == {
        "name": "credex_notification",
        "language": {"code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Demo Bob"},
                    {"type": "text", "text": "Demo Alice offered you 12.50 USD secured."},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "view_offers"}],
            },
        ],
    }


def test_each_payload_has_its_button_index() -> None:
    message = Template(name="other_template", quick_reply_payloads=("a", "b", "c"))
    components = message.to_payload("1")["template"]["components"]
    assert [(c["index"], c["parameters"][0]["payload"]) for c in components] == [("0", "a"), ("1", "b"), ("2", "c")]


def test_payloads_round_trip_through_the_outbox_json() -> None:
    message = notification("Demo Bob", "Demo Alice offered you 12.50 USD secured.")
    again = OUTBOUND_MESSAGE.validate_json(message.model_dump_json())
    assert again == message
    assert again.quick_reply_payloads == (VIEW_OFFERS_PAYLOAD,)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "ok", "quick_reply_payloads": [""]},
        {"name": "ok", "quick_reply_payloads": ["x" * 257]},
        {"name": "ok", "quick_reply_payloads": ["p"] * 11},
        {"name": "credex_notification", "body_parameters": ["Bob", "hi"], "quick_reply_payloads": ["a", "b"]},
        {"name": "credex_notification", "body_parameters": ["Bob", "x" * 1000]},
    ],
    ids=["empty payload", "payload too long", "more than 10 buttons", "more payloads than buttons", "body too long"],
)
def test_invalid_quick_replies_and_bodies_fail_when_built(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Template(**kwargs)


def test_notify_shortens_a_message_that_would_not_fit_the_body() -> None:
    message = notification("N" * 100, "word " * 180)  # 100 + 900 + the fixed words: over 1,024
    rendered = CREDEX_NOTIFICATION.render(message.body_parameters)
    assert len(rendered) <= TEMPLATE_BODY_MAX
    assert message.body_parameters[1].endswith("…")
    assert message.quick_reply_payloads == (VIEW_OFFERS_PAYLOAD,)


def _readme_template_step() -> str:
    text = README.read_text()
    start = text.index("6. **The message template `/notify` sends.**")
    return text[start : text.index("### ", start)]


def test_the_readme_asks_meta_to_approve_the_template_we_send() -> None:
    step = _readme_template_step()
    body = re.search(r"```text\n(.*?)\n   ```", step, re.S)
    assert body is not None, "the README's template step has no body to paste"
    pasted = "\n".join(line.removeprefix("   ") for line in body.group(1).splitlines())
    assert pasted == CREDEX_NOTIFICATION.body
    assert f"| name | `{CREDEX_NOTIFICATION.name}`" in step
    assert f"code `{CREDEX_NOTIFICATION.language}`" in step
    (button,) = CREDEX_NOTIFICATION.quick_replies
    assert f"*Quick reply*: `{button}`" in step
    assert f"`{VIEW_OFFERS_PAYLOAD}`" in step  # the payload the button carries, said where it is approved
