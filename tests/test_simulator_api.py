"""The simulator's page, assets and sender, and the terminal chat, against the real app in-process."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import fakeredis
import httpx
import orjson
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from app import chat as chat_cli
from app.api import simulator, simulator_payloads
from app.config import Settings
from app.whatsapp.inbound import InboundMessage, parse_body, parse_updates
from tests.conftest import SHARED
from tests.flows_kit import ALICE, make_bot_app
from tests.webhook_kit import Bot, make_app, running, settings

NEW = "263779990042"
EXTERNAL_URL = re.compile(r"(?:https?:)?//(?!localhost\b|127\.0\.0\.1\b)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client: Redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


@pytest.fixture
async def bot(redis: Redis) -> AsyncIterator[Bot]:
    async with running(make_bot_app(redis)) as b:
        yield b


async def send(bot: Bot, **body: Any) -> httpx.Response:
    return await bot.client.post("/simulator/send", json=body)


async def test_page_and_assets_are_served_without_external_urls(bot: Bot) -> None:
    page = await bot.client.get("/simulator")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for testid in ("phone-input", "open-chat", "new-number", "pick-263770000001", "pick-263770000002"):
        assert f'data-testid="{testid}"' in page.text
    assert "/simulator/static/simulator.css" in page.text and "/simulator/static/simulator.js" in page.text
    css = await bot.client.get("/simulator/static/simulator.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    scripts = []
    for name in ("dom.js", "bubbles.js", "attach.js", "simulator.js"):
        assert f"/simulator/static/{name}" in page.text
        response = await bot.client.get(f"/simulator/static/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
        assert len(response.text.splitlines()) <= 300, f"{name} has grown past 300 lines: split it"
        scripts.append(response.text)
    js = "\n".join(scripts)
    for name, body in (("html", page.text), ("css", css.text), ("js", js)):
        assert EXTERNAL_URL.search(body) is None, f"{name} refers to {EXTERNAL_URL.search(body)}"
        assert "@import" not in body and "fonts.googleapis" not in body
    for testid in ("bubble-bot", "bubble-me", "reply-button", "list-open", "list-row", "composer-", "send-", "attach-"):
        assert testid in js


@pytest.mark.parametrize("name", ["index.html", "../simulator.py", "..%2F..%2Fconfig.py", "simulator.map", "x.js"])
async def test_only_the_known_assets_are_served(bot: Bot, name: str) -> None:
    assert (await bot.client.get(f"/simulator/static/{name}")).status_code == 404


async def test_text_goes_through_the_signed_webhook_and_the_reply_lands_in_the_outbox(bot: Bot) -> None:
    response = await send(bot, phone=NEW, text="hi")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["webhook_status"] == 200 and result["webhook"]["messages"] == 1
    assert result["wamid"].startswith("wamid.")
    replies = await bot.outbox(NEW)
    assert replies[-1]["kind"] == "buttons" and [b["id"] for b in replies[-1]["buttons"]] == ["join"]

    tapped = await send(bot, phone=NEW, kind="button_reply", reply_id="join", reply_title="Become a member")
    assert tapped.status_code == 200
    assert "first name" in (await bot.outbox(NEW))[-1]["body"]


async def test_every_send_is_a_new_message_never_a_duplicate(bot: Bot) -> None:
    first = (await send(bot, phone=ALICE, text="hi")).json()
    second = (await send(bot, phone=ALICE, text="hi")).json()
    assert first["wamid"] != second["wamid"]
    menus = [m for m in await bot.outbox(ALICE) if m["kind"] == "list"]
    assert len(menus) == 2  # both handled: the second was not swallowed as a retry


async def test_list_reply_reaches_the_menu(bot: Bot) -> None:
    await send(bot, phone=ALICE, text="hi")
    seen = len(await bot.outbox(ALICE))
    response = await send(bot, phone=ALICE, kind="list_reply", reply_id="no_such_row", reply_title="Nope")
    assert response.status_code == 200 and response.json()["webhook"]["messages"] == 1
    answer = (await bot.outbox(ALICE))[seen:]
    assert any("from an earlier message" in m.get("body", "") for m in answer)  # not on screen: never read as text
    assert answer[-1]["kind"] == "list" and not any("no_such_row" in m.get("body", "") for m in answer)


async def test_a_wrong_signature_is_refused_by_the_real_check(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator, "sign", lambda secret, body: "sha256=" + "0" * 64)
    response = await send(bot, phone=NEW, text="hi")
    assert response.status_code == 403 and response.json()["webhook_status"] == 403
    assert await bot.outbox(NEW) == []


def test_the_envelope_parses_like_a_cloud_api_webhook() -> None:
    body = simulator.SimulatorSend(
        phone=NEW,
        kind="list_reply",
        reply_id="accept",
        reply_title="Accept",
        reply_description="Say yes",
        name="Tendai",
    )
    raw = orjson.dumps(simulator.build_envelope(body, settings(), "wamid.X1", now=1700000000))
    [update] = parse_updates(parse_body(raw))
    assert isinstance(update, InboundMessage)
    assert (update.channel_id, update.message_id, update.type) == (NEW, "wamid.X1", "interactive")
    assert (update.reply_id, update.reply_title, update.input_text) == ("accept", "Accept", "accept")
    assert update.profile_name == "Tendai" and update.timestamp == 1700000000
    message = orjson.loads(raw)["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["interactive"]["list_reply"] == {"id": "accept", "title": "Accept", "description": "Say yes"}
    contact = orjson.loads(raw)["entry"][0]["changes"][0]["value"]["contacts"][0]
    assert contact["wa_id"] == NEW and contact["user_id"]


def parsed(body: simulator.SimulatorSend) -> tuple[InboundMessage, dict[str, Any]]:
    """The envelope through the production parser, and the raw message as Meta would have sent it."""
    raw = orjson.dumps(simulator.build_envelope(body, settings(), "wamid.X2", now=1700000000))
    [update] = parse_updates(parse_body(raw))
    assert isinstance(update, InboundMessage)
    message: dict[str, Any] = orjson.loads(raw)["entry"][0]["changes"][0]["value"]["messages"][0]
    return update, message


def test_a_template_quick_reply_tap_is_a_button_message_as_meta_sends_it() -> None:
    tap = simulator.SimulatorSend(
        phone=NEW, kind="button", reply_id="view_offers", reply_title="View offers", context_id="wamid.dev.ABC"
    )
    update, message = parsed(tap)
    assert message["type"] == "button" and message["button"] == {"payload": "view_offers", "text": "View offers"}
    assert message["context"] == {"from": simulator_payloads.DISPLAY_NUMBER, "id": "wamid.dev.ABC"}
    assert (update.type, update.reply_id, update.reply_title) == ("button", "view_offers", "View offers")
    shared = orjson.loads((SHARED / "whatsapp/payloads/button_quick_reply_01.json").read_bytes())
    meta = shared["entry"][0]["changes"][0]["value"]["messages"][0]
    assert set(message) == set(meta) and set(message["button"]) == set(meta["button"])


def test_media_location_and_contact_card_shapes() -> None:
    photo = simulator.SimulatorSend(
        phone=NEW, kind="image", media={"mime_type": "image/png", "sha256": "q1w2e3r4", "caption": "receipt"}
    )
    update, message = parsed(photo)
    assert message["image"]["mime_type"] == "image/png" and message["image"]["sha256"] == "q1w2e3r4"
    assert message["image"]["id"].isdigit() and message["image"]["caption"] == "receipt"
    assert update.type == "image" and update.text == "receipt"

    _, voice = parsed(simulator.SimulatorSend(phone=NEW, kind="audio"))
    assert voice["type"] == "audio" and voice["audio"]["voice"] is True
    assert voice["audio"]["mime_type"] == "audio/ogg; codecs=opus" and len(voice["audio"]["sha256"]) == 44
    shared = orjson.loads((SHARED / "whatsapp/payloads/audio_voice_01.json").read_bytes())
    assert set(voice["audio"]) == set(shared["entry"][0]["changes"][0]["value"]["messages"][0]["audio"])

    where = {"latitude": -17.8292, "longitude": 31.0522, "name": "Harare Gardens", "address": "Park Lane, Harare"}
    update, place = parsed(simulator.SimulatorSend(phone=NEW, kind="location", location=where))
    assert place["location"] == where and update.raw.location is not None
    assert update.raw.location.latitude == -17.8292

    card = simulator.SimulatorSend(
        phone=NEW, kind="contacts", contact={"name": "Demo Bob", "phone": "+263 77 000 0002"}
    )
    update, shared_card = parsed(card)
    assert shared_card["contacts"] == [
        {
            "name": {"formatted_name": "Demo Bob", "first_name": "Demo", "last_name": "Bob"},
            "phones": [{"phone": "+263 77 000 0002", "type": "CELL", "wa_id": "263770000002"}],
        }
    ]
    assert update.input_text == "263770000002"
    local = simulator.SimulatorSend(phone=NEW, kind="contacts", contact={"name": "Rudo", "phone": "0770000002"})
    update, _ = parsed(local)
    assert update.input_text == "0770000002"  # no wa_id for a number written locally: the bot reads it as written


async def test_a_contact_card_at_the_who_to_step_is_the_recipient(bot: Bot) -> None:
    await send(bot, phone=ALICE, text="hi")
    await send(bot, phone=ALICE, kind="list_reply", reply_id="offer_secured", reply_title="Offer secured credex")
    await send(bot, phone=ALICE, text="2")
    assert "Who is the offer for" in (await bot.outbox(ALICE))[-1]["body"]
    card = {"name": "Demo Bob", "phone": "+263770000002"}
    assert (await send(bot, phone=ALICE, kind="contacts", contact=card)).status_code == 200
    assert any(
        "Demo Bob" in m.get("body", "") and "confirm" in m.get("body", "") for m in (await bot.outbox(ALICE))[-2:]
    )


@pytest.mark.parametrize(
    "body",
    [
        {"phone": NEW, "kind": "image", "text": "hi"},
        {"phone": NEW, "kind": "image", "media": {"mime_type": "audio/ogg"}},
        {"phone": NEW, "kind": "image", "media": {"mime_type": "image/png", "sha256": "not base64!"}},
        {"phone": NEW, "kind": "audio", "media": {"mime_type": "audio/ogg", "caption": "x"}},
        {"phone": NEW, "kind": "location"},
        {"phone": NEW, "kind": "location", "location": {"latitude": 91, "longitude": 0}},
        {"phone": NEW, "kind": "location", "location": {"latitude": 0, "longitude": 0}, "text": "x"},
        {"phone": NEW, "kind": "contacts", "contact": {"name": "Bob"}},
        {"phone": NEW, "kind": "contacts", "contact": {"name": "Bob", "phone": "call me"}},
        {"phone": NEW, "kind": "button"},
        {"phone": NEW, "kind": "button", "reply_id": "view_offers", "context_id": "not-a-wamid"},
        {"phone": NEW, "text": "hi", "context_id": "wamid.X"},
        {"phone": NEW, "kind": "button_reply", "reply_id": "join", "reply_description": "x"},
        {"phone": NEW, "text": "hi", "location": {"latitude": 0, "longitude": 0}},
    ],
)
async def test_bad_attachments_are_422(bot: Bot, body: dict[str, Any]) -> None:
    assert (await bot.client.post("/simulator/send", json=body)).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "1234567", "text": "hi"},
        {"phone": "1234567890123456", "text": "hi"},
        {"phone": "+263771234567", "text": "hi"},
        {"phone": "26377123456a", "text": "hi"},
        {"phone": NEW},
        {"phone": NEW, "text": "   "},
        {"phone": NEW, "text": "x" * 4097},
        {"phone": NEW, "text": "hi", "reply_id": "join"},
        {"phone": NEW, "kind": "button_reply", "reply_title": "Join"},
        {"phone": NEW, "kind": "button_reply", "reply_id": "join", "text": "hi"},
        {"phone": NEW, "kind": "voice", "text": "hi"},
        {"phone": NEW, "text": "hi", "secret": "x"},
        {"text": "hi"},
    ],
)
async def test_bad_bodies_are_422(bot: Bot, body: dict[str, Any]) -> None:
    assert (await bot.client.post("/simulator/send", json=body)).status_code == 422


def production() -> Settings:
    return settings(app_env="production", credex_api_url="http://credex.invalid", credex_client_api_key="k" * 16)


async def test_routes_are_absent_in_production(redis: Redis) -> None:
    async with running(make_app(redis=redis, settings=production())) as bot:
        for path in ("/simulator", "/simulator/static/simulator.js", "/simulator/static/simulator.css"):
            assert (await bot.client.get(path)).status_code == 404, path
        assert (await send(bot, phone=NEW, text="hi")).status_code in (404, 405)


async def test_router_refuses_outside_development_even_if_included(redis: Redis) -> None:
    app = FastAPI()
    app.state.settings = production()
    app.include_router(simulator.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/simulator")).status_code == 404
        assert (await client.post("/simulator/send", json={"phone": NEW, "text": "hi"})).status_code == 404


# --- the terminal chat ----------------------------------------------------------------------------------


def test_render_numbers_buttons_and_rows() -> None:
    choices: list[chat_cli.Choice] = []
    lines = chat_cli.render({"kind": "buttons", "body": "Join?", "buttons": [{"id": "join", "title": "Yes"}]}, choices)
    lines += chat_cli.render(
        {
            "kind": "list",
            "body": "Menu",
            "button": "Choose",
            "sections": [{"title": "Actions", "rows": [{"id": "ledger", "title": "Ledger", "description": "All"}]}],
        },
        choices,
    )
    lines += chat_cli.render({"kind": "template", "name": "offer_in", "language": "en", "body_parameters": ["5"]}, [])
    notice = {
        "kind": "template",
        "name": "credex_notification",
        "body_parameters": ["Demo Bob", "Demo Alice offered you 5.00 USD."],
        "quick_reply_payloads": ["view_offers"],
    }
    lines += chat_cli.render(notice, choices)
    shown = "\n".join(lines)
    assert "  [1] Yes" in shown and "  [2] Ledger — All" in shown
    assert "[template offer_in] 5" in shown  # no approved text known: its name and parameters
    assert "Hi Demo Bob, here is an update" in shown and "Demo Alice offered you 5.00 USD." in shown
    assert "  [3] View offers" in shown  # the template's quick reply, as a choice with its payload
    assert [(c.kind, c.reply_id) for c in choices] == [
        ("button_reply", "join"),
        ("list_reply", "ledger"),
        ("button", "view_offers"),
    ]


async def test_chat_once_signs_up_through_numbered_choices(bot: Bot) -> None:
    args = chat_cli.parse_args(["--phone", "+" + NEW, "--url", "http://bot", "--once", "hi", "--once", "1"])
    args.once += ["Tendai", "Moyo", "1"]  # 1: *Yes, register me* under "You will be registered as Tendai Moyo"
    out = io.StringIO()
    transport = httpx.ASGITransport(app=bot.app)
    assert await chat_cli.run(args, out, transport=transport) == 0
    shown = out.getvalue()
    assert "bot › Welcome to *VimbisoPay*" in shown and "[1] Become a member" in shown
    assert "you › 1" in shown and "first name" in shown and "Welcome, Tendai" in shown
    assert "Secured balances" in shown and "Offer secured credex" in shown


async def test_chat_reports_a_service_without_the_simulator(redis: Redis, capsys: pytest.CaptureFixture[str]) -> None:
    async with running(make_app(redis=redis, settings=production())) as prod:
        args = chat_cli.parse_args(["--phone", NEW, "--url", "http://bot", "--once", "hi"])
        code = await chat_cli.run(args, io.StringIO(), transport=httpx.ASGITransport(app=prod.app))
    assert code == 2 and "APP_ENV=development" in capsys.readouterr().err


def test_chat_refuses_a_bad_phone() -> None:
    with pytest.raises(SystemExit):
        chat_cli.parse_args(["--phone", "12ab"])


def test_chat_numbers_pick_a_choice_only_while_the_latest_message_offers_them() -> None:
    chat = chat_cli.Chat(httpx.AsyncClient(base_url="http://unused"), NEW)
    menu = {"kind": "buttons", "body": "Pick one", "buttons": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}
    chat.show([menu], io.StringIO())
    assert chat.payload_for("2")["reply_id"] == "b"
    chat.show([{"kind": "text", "body": "How much do you want to offer?"}], io.StringIO())
    assert chat.payload_for("3") == {"kind": "text", "text": "3"}  # an amount, not a tap on the old menu
    assert chat_cli.bold("a *bold* word") == "a \033[1mbold\033[0m word"


def test_chat_honours_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    assert chat_cli.parse_args(["--phone", NEW]).url == "http://127.0.0.1:8123"
