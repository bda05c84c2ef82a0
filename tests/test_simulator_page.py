"""The simulator page's own abilities in real headless Chromium (tests/simulator_kit.py): the notification template
as the person reads it, a quick-reply tap, the whole conversation with its real times after a reload, a 390 px
phone screen, and sharing a photo, a place, a voice note and a contact card.

Set SIMULATOR_SCREENSHOT=docs/simulator.png to refresh the README's screenshot (the last test takes it).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import orjson

from app.whatsapp.templates import CREDEX_NOTIFICATION
from tests import simulator_kit as kit
from tests.simulator_kit import (
    ALICE,
    BOB,
    WAIT_S,
    Pane,
    assert_fits,
    history,
    open_pane,
    post_notify,
    screenshot,
)

server, browser, page, phone_page = kit.server, kit.browser, kit.page, kit.phone_page  # the fixtures, here

OFFER_NOTE = "Demo Alice offered you 12.50 USD secured. Open the bot to accept or decline."
UNDERSTOOD = r"only read text messages"


def template_bubble(pane: Pane, name: str) -> Any:
    bubble = pane.root.locator(f'[data-testid="bubble-bot"][data-template="{name}"]').last
    bubble.wait_for()
    return bubble


def quick_replies(bubble: Any) -> Any:
    """The reply buttons under a bot bubble (they sit in its group, as WhatsApp draws them)."""
    return bubble.locator("xpath=..").get_by_test_id("reply-button")


def sent_body(page: Any, action: Any) -> dict[str, Any]:
    """Run `action` and return the JSON the page posted to /simulator/send."""
    with page.expect_request(lambda r: r.url.endswith("/simulator/send") and r.method == "POST") as request:
        action()
    body: dict[str, Any] = request.value.post_data_json
    return body


def last_mine(server: str, phone: str) -> dict[str, Any]:
    items = [i for i in history(server, phone)["items"] if i["side"] == "me"]
    return items[-1]


def test_the_notification_template_reads_as_on_the_phone_and_its_button_taps(page: Any, server: str) -> None:
    bob = open_pane(page, BOB)
    post_notify(server, BOB, "Demo Bob", OFFER_NOTE)
    bubble = template_bubble(bob, "credex_notification")
    shown = bubble.inner_text()
    for line in CREDEX_NOTIFICATION.render(("Demo Bob", OFFER_NOTE)).split("\n"):
        assert line in shown
    assert "template" not in shown.lower() and "{{" not in shown  # a normal bubble, never a debug card
    assert bubble.get_attribute("data-kind") == "template" and bubble.get_by_test_id("time").count() == 1
    buttons = quick_replies(bubble)
    assert buttons.all_inner_texts() == list(CREDEX_NOTIFICATION.quick_replies)

    [sent] = [i for i in history(server, BOB)["items"] if i["side"] == "bot" and i["message"]["kind"] == "template"][
        -1:
    ]
    components = sent["request"]["template"]["components"]
    payloads = [p["payload"] for c in components if c["type"] == "button" for p in c["parameters"]]
    answers_before = len(bob.bot_texts())
    body = sent_body(page, buttons.first.click)
    expected_payload = payloads[0] if payloads else CREDEX_NOTIFICATION.quick_replies[0]  # Meta: no payload → title
    assert body == {
        "phone": BOB,
        "name": "Demo Bob",
        "kind": "button",
        "reply_id": expected_payload,
        "reply_title": "View offers",
        "context_id": sent["wamid"],
    }
    mine = last_mine(server, BOB)
    assert mine["status"] == 200 and mine["send"]["kind"] == "button" and mine["send"]["reply_id"] == expected_payload
    assert bob.root.get_by_test_id("bubble-me").last.inner_text().startswith("View offers")
    deadline = time.monotonic() + WAIT_S
    while len(bob.bot_texts()) == answers_before and time.monotonic() < deadline:
        time.sleep(0.1)
    answer = bob.bot_texts()[answers_before:]
    assert answer, "the bot did not answer the quick-reply tap"
    assert not any(expected_payload in a or "callback_data" in a for a in answer), answer


def template_item(seq: int, name: str, components: list[dict[str, Any]]) -> dict[str, Any]:
    """A dev-outbox template as GET /simulator/history returns it (the exact Cloud API body and its model)."""
    parameters = [p["text"] for c in components if c["type"] == "body" for p in c["parameters"]]
    return {
        "side": "bot",
        "at": int(time.time() * 1000) - 60_000 + seq,
        "wamid": f"wamid.dev.T{seq}",
        "seq": seq,
        "request": {
            "messaging_product": "whatsapp",
            "to": "x",
            "type": "template",
            "template": {"name": name, "language": {"code": "en"}, "components": components},
        },
        "message": {"kind": "template", "name": name, "language": "en", "body_parameters": parameters},
    }


def body(*texts: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": t} for t in texts]}


def quick_reply(index: int, payload: str) -> dict[str, Any]:
    return {
        "type": "button",
        "sub_type": "quick_reply",
        "index": str(index),
        "parameters": [{"type": "payload", "payload": payload}],
    }


def test_templates_with_and_without_buttons_and_an_unknown_one(page: Any, server: str) -> None:
    """Shapes the sender may produce: a quick-reply payload set per send (tapped: it comes back as sent), none, and
    a template this page has no text for (shown plainly with its parameters)."""
    phone = "263779990101"
    items = [
        template_item(
            1, "credex_notification", [body("Tendai", "You have a new offer."), quick_reply(0, "view_offers")]
        ),
        template_item(2, "credex_notification", [body("Tendai", "Your offer was accepted.")]),
        template_item(3, "offer_reminder", [body("5.00 USD", "Bob")]),
    ]
    fake = orjson.dumps({"items": items, "last_seq": 3, "read": []}).decode()
    page.route(
        f"**/simulator/history/{phone}?after=0", lambda route: route.fulfill(body=fake, content_type="application/json")
    )
    pane = open_pane(page, phone)
    with_button, without, unknown = pane.root.get_by_test_id("bubble-bot").all()
    assert with_button.inner_text().startswith(
        "Hi Tendai, here is an update from your credex account:\n\nYou have a new offer."
    )
    assert "Your offer was accepted." in without.inner_text()
    assert unknown.inner_text().startswith("template offer_reminder\n5.00 USD\nBob")
    assert quick_replies(with_button).all_inner_texts() == quick_replies(without).all_inner_texts() == ["View offers"]

    tapped = sent_body(page, quick_replies(with_button).first.click)
    assert (tapped["kind"], tapped["reply_id"], tapped["reply_title"]) == ("button", "view_offers", "View offers")
    assert tapped["context_id"] == "wamid.dev.T1"
    pane.settle()
    mine = last_mine(server, phone)
    assert mine["status"] == 200 and mine["send"]["reply_id"] == "view_offers"  # the webhook took the button tap
    without_payload = sent_body(page, quick_replies(without).first.click)
    assert without_payload["reply_id"] == "View offers"  # no payload given at send time: Meta sends the title


def conversation(pane: Pane) -> list[tuple[str, str, str, str]]:
    """Every bubble in the pane, in order: (side, its text, epoch ms it was sent, the time shown)."""
    rows: list[list[str]] = pane.root.evaluate(
        """root => Array.from(root.querySelectorAll(".bubble")).map(b => [
          b.classList.contains("me") ? "me" : "bot",
          b.innerText,
          b.querySelector("[data-testid=time]").getAttribute("data-at"),
          b.querySelector("[data-testid=time]").firstChild.textContent,
        ])"""
    )
    return [(side, text, at, shown) for side, text, at, shown in rows]


def test_a_reload_keeps_both_sides_with_the_times_they_were_sent(page: Any, server: str) -> None:
    me = open_pane(page)
    started = int(time.time() * 1000)
    me.say("hi", expect="Welcome to VimbisoPay")
    me.tap("Become a member", expect="first name")
    me.say("Tendai", expect="last name")
    me.settle()
    ended = int(time.time() * 1000)
    before = conversation(me)
    assert [text.split("\n")[0] for side, text, _, _ in before if side == "me"] == ["hi", "Become a member", "Tendai"]
    assert all(started - 1000 <= int(at) <= ended for _, _, at, _ in before)

    page.clock.set_system_time(time.time() + 3 * 3600)  # the reload happens "three hours later"
    page.reload()
    again = Pane(page, me.phone)
    again.root.wait_for(state="visible")
    again.settle()
    assert page.evaluate("Date.now()") > time.time() * 1000 + 2 * 3600 * 1000  # the page's clock did move on
    assert conversation(again) == before  # same bubbles, same order, same sent times, not the reload's time
    kept = history(server, me.phone)["items"]
    assert [i["side"] for i in kept] == [side for side, _, _, _ in before]
    assert [str(i["at"]) for i in kept] == [at for _, _, at, _ in before]
    ticks = again.root.locator(".bubble.me .ticks").all_inner_texts()
    assert ticks == ["✓✓"] * 3  # delivered to the webhook
    assert again.root.locator(".bubble.me .ticks.read").count() == 3  # and marked read by the bot: blue


def test_fits_a_390_px_phone_screen(phone_page: Any, server: str, tmp_path: Path) -> None:
    alice = open_pane(phone_page, ALICE)
    assert_fits(phone_page)
    alice.say("hi", expect="Secured balances")
    post_notify(server, ALICE, "Demo Alice", "Demo Bob accepted your offer of 5.00 USD. Your balance is now 95.00 USD.")
    template_bubble(alice, "credex_notification")
    alice.root.get_by_test_id(f"attach-{ALICE}").click()
    phone_page.get_by_test_id("attach-location").click()
    assert_fits(phone_page)
    alice._after(lambda: phone_page.get_by_test_id("attach-send").click(), expect=UNDERSTOOD)
    alice.root.get_by_test_id(f"attach-{ALICE}").click()
    phone_page.get_by_test_id("attach-contact").click()
    assert_fits(phone_page)
    phone_page.screenshot(path=str(tmp_path / "phone-contact.png"))
    alice.root.get_by_test_id("sheet-close").click()
    alice.say("x" * 300, expect=".")
    assert_fits(phone_page)
    alice.open_list()
    assert_fits(phone_page)
    phone_page.screenshot(path=str(tmp_path / "phone-list.png"))
    alice.root.get_by_test_id("sheet-close").click()
    template_bubble(alice, "credex_notification").scroll_into_view_if_needed()
    phone_page.screenshot(path=str(tmp_path / "phone.png"))  # for a person to look at: the template, the place
    assert_fits(phone_page)


def tiny_png() -> bytes:
    """A valid 2 x 2 PNG, made here (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x00\x80\x69" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def attach(pane: Pane, choice: str) -> None:
    pane.root.get_by_test_id(f"attach-{pane.phone}").click()
    pane.page.get_by_test_id(choice).click()


def test_sends_a_photo_a_location_a_voice_note_and_a_contact_card(page: Any, server: str) -> None:
    alice = open_pane(page, ALICE)
    alice.say("menu", expect="Secured balances")

    png = tiny_png()
    attach(alice, "attach-photo")
    page.get_by_test_id("photo-file").set_input_files({"name": "receipt.png", "mimeType": "image/png", "buffer": png})
    page.get_by_test_id("field-caption").fill("my receipt")
    sent = sent_body(page, lambda: alice._after(lambda: page.get_by_test_id("attach-send").click(), expect=UNDERSTOOD))
    digest = base64.b64encode(hashlib.sha256(png).digest()).decode()
    assert sent["kind"] == "image" and sent["media"] == {
        "mime_type": "image/png",
        "sha256": digest,
        "caption": "my receipt",
    }
    photo = alice.root.get_by_test_id("bubble-me").last
    assert photo.locator("img.photo").count() == 1 and "my receipt" in photo.inner_text()

    attach(alice, "attach-location")
    page.get_by_test_id("field-name").fill("Eastgate Mall")
    sent = sent_body(page, lambda: alice._after(lambda: page.get_by_test_id("attach-send").click(), expect=UNDERSTOOD))
    assert sent["kind"] == "location"
    assert sent["location"] == {
        "latitude": -17.8292,
        "longitude": 31.0522,
        "name": "Eastgate Mall",
        "address": "Park Lane, Harare",
    }
    assert "Eastgate Mall" in alice.root.get_by_test_id("bubble-me").last.inner_text()

    sent = sent_body(page, lambda: alice._after(lambda: attach(alice, "attach-voice"), expect=UNDERSTOOD))
    assert sent == {"phone": ALICE, "name": "Demo Alice", "kind": "audio"}
    assert "Voice note" in alice.root.get_by_test_id("bubble-me").last.inner_text()
    kinds = [i["send"]["kind"] for i in history(server, ALICE)["items"] if i["side"] == "me"][-3:]
    assert kinds == ["image", "location", "audio"]

    alice.choose("How much", row_id="offer_secured")
    alice.say("1", expect="Who is the offer for")
    attach(alice, "attach-contact")
    sent = sent_body(
        page, lambda: alice._after(lambda: page.get_by_test_id(f"contact-{BOB}").click(), expect="confirm")
    )
    assert sent["kind"] == "contacts" and sent["contact"] == {"name": "Demo Bob", "phone": f"+{BOB}"}
    card = alice.root.get_by_test_id("bubble-me").last
    assert "Demo Bob" in card.inner_text() and f"+{BOB}" in card.inner_text()
    assert "Demo Bob" in alice.bot_texts()[-1] or any("Demo Bob" in t for t in alice.bot_texts()[-2:])
    alice.say("cancel", expect=r"not sent|cancel")


CHIPO = "263770000003"


def test_a_real_conversation_for_the_readme(page: Any, server: str, tmp_path: Path) -> None:
    """Alice signs and sends Chipo an offer from her dashboard; Chipo is notified with the template and taps its
    button; a new number is welcomed. SIMULATOR_SCREENSHOT=docs/simulator.png keeps the picture."""
    alice, chipo = open_pane(page, ALICE), open_pane(page, CHIPO)
    alice.say("hi", expect="Secured balances")
    alice.say(f"12.50=>{CHIPO}", expect=r"Please confirm.*secured")
    alice.tap("^Sign and send$", expect=r"offer of 12\.50 USD was sent to")
    if not wait_for(lambda: chipo.root.locator('[data-template="credex_notification"]').count() > 0, within_s=3):
        # the sandbox does not notify (yet): do what credex-core does
        post_notify(
            server, CHIPO, "Demo Chipo", "Demo Alice offered you 12.50 USD secured. Open the bot to accept or decline."
        )
    notice = template_bubble(chipo, "credex_notification")
    assert "12.50 USD" in notice.inner_text()
    chipo._after(quick_replies(notice).first.click, expect=".")
    chipo.settle()
    stranger = open_pane(page)
    stranger.say("hi", expect="Welcome to VimbisoPay")
    alice.settle()
    page.set_viewport_size({"width": 1280, "height": 960})
    page.evaluate("() => document.querySelectorAll('.messages').forEach(m => { m.scrollTop = m.scrollHeight; })")
    page.mouse.move(0, 0)  # no hover highlight in the picture
    screenshot(page, tmp_path)


def wait_for(condition: Any, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())
