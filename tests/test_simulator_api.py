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
from app.api import simulator
from app.config import Settings
from app.whatsapp.inbound import InboundMessage, parse_body, parse_updates
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
    js = await bot.client.get("/simulator/static/simulator.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert js.headers["content-type"].startswith("text/javascript")
    for name, body in (("html", page.text), ("css", css.text), ("js", js.text)):
        assert EXTERNAL_URL.search(body) is None, f"{name} refers to {EXTERNAL_URL.search(body)}"
        assert "@import" not in body and "fonts.googleapis" not in body
    for testid in ("bubble-bot", "bubble-me", "reply-button", "list-open", "list-row", "composer-", "send-"):
        assert testid in js.text


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
    body = simulator.SimulatorSend(phone=NEW, kind="list_reply", reply_id="accept", reply_title="Accept", name="Tendai")
    raw = orjson.dumps(simulator.build_envelope(body, settings(), "wamid.X1", now=1700000000))
    [update] = parse_updates(parse_body(raw))
    assert isinstance(update, InboundMessage)
    assert (update.channel_id, update.message_id, update.type) == (NEW, "wamid.X1", "interactive")
    assert (update.reply_id, update.reply_title, update.input_text) == ("accept", "Accept", "accept")
    assert update.profile_name == "Tendai" and update.timestamp == 1700000000
    contact = orjson.loads(raw)["entry"][0]["changes"][0]["value"]["contacts"][0]
    assert contact["wa_id"] == NEW and contact["user_id"]


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
    assert "  [1] Yes" in "\n".join(lines) and "  [2] Ledger — All" in "\n".join(lines)
    assert "[template offer_in (en)] 5" in "\n".join(lines)
    assert [c.reply_id for c in choices] == ["join", "ledger"] and choices[1].kind == "list_reply"


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
