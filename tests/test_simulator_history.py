"""The simulator's history: both sides of a number's conversation kept server-side (the person's messages beside
the dev outbox, the bot's read receipts), with the times they were really sent, bounded, on both stores."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from app.sender.devsink import DevHistory, DevSink
from app.state.keys import channel_keys
from app.state.side_records import OUTBOX_KEEP, OUTBOX_TTL_MS
from app.whatsapp.messages import MarkRead, Text
from app.whatsapp.templates import APPROVED
from tests.flows_kit import ALICE, BOB
from tests.webhook_kit import Bot, make_app, running, settings

NEW = "263779990043"


async def send(bot: Bot, **body: Any) -> dict[str, Any]:
    response = await bot.client.post("/simulator/send", json={"phone": body.pop("phone", NEW), **body})
    assert response.status_code == 200, response.text
    await bot.settle()
    result: dict[str, Any] = response.json()
    return result


async def history(bot: Bot, phone: str = NEW, after: int = 0) -> dict[str, Any]:
    response = await bot.client.get(f"/simulator/history/{phone}", params={"after": after})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_both_sides_in_the_order_they_were_sent_with_their_times(bot: Bot) -> None:
    hi = await send(bot, text="hi")
    tap = await send(bot, kind="button_reply", reply_id="join", reply_title="Become a member")
    place = await send(bot, kind="location", location={"latitude": -17.8, "longitude": 31.0, "name": "Home"})
    page = await history(bot)
    items = page["items"]
    sides = [i["side"] for i in items]
    assert sides[0] == "me" and sides.count("me") == 3 and "bot" in sides[1 : sides.index("me", 1)]
    mine = [i for i in items if i["side"] == "me"]
    assert [m["wamid"] for m in mine] == [hi["wamid"], tap["wamid"], place["wamid"]]
    assert [m["at"] for m in mine] == [hi["at"], tap["at"], place["at"]]
    assert mine[0]["send"] == {"kind": "text", "text": "hi"} and mine[0]["status"] == 200
    assert mine[1]["send"] == {"kind": "button_reply", "reply_id": "join", "reply_title": "Become a member"}
    assert mine[2]["send"]["location"] == {"latitude": -17.8, "longitude": 31.0, "name": "Home"}
    times = [i["at"] for i in items]
    assert times == sorted(times) and all(isinstance(t, int) for t in times)
    bots = [i for i in items if i["side"] == "bot"]
    assert bots[0]["at"] >= hi["at"] and bots[0]["request"]["to"] == NEW and bots[0]["wamid"].startswith("wamid.dev.")
    assert page["last_seq"] == bots[-1]["seq"]
    assert {hi["wamid"], tap["wamid"]} <= set(page["read"])  # the bot marked them read: blue ticks


async def test_after_a_seq_only_the_bots_newer_messages(bot: Bot) -> None:
    await send(bot, text="hi")
    first = await history(bot)
    await send(bot, text="hello")
    newer = await history(bot, after=first["last_seq"])
    assert newer["items"] and all(i["side"] == "bot" and i["seq"] > first["last_seq"] for i in newer["items"])
    assert len(newer["read"]) == 2
    assert (await history(bot, after=newer["last_seq"]))["items"] == []


async def test_the_person_side_is_bounded_and_expires_like_the_outbox(bot: Bot, redis_client: Redis) -> None:
    dev = DevHistory(bot.app.state.records)
    for n in range(OUTBOX_KEEP + 5):
        await dev.record_sent(BOB, {"at": n, "wamid": f"wamid.X{n}", "send": {"kind": "text", "text": str(n)}})
        await dev.mark_read(BOB, f"wamid.X{n}")
    sent = await dev.sent(BOB)
    assert len(sent) == OUTBOX_KEEP and sent[0]["at"] == 5 and sent[-1]["at"] == OUTBOX_KEEP + 4
    assert len(await dev.read_ids(BOB)) == OUTBOX_KEEP
    outbox = channel_keys(BOB).outbox
    for key in (f"{outbox}:inbound", f"{outbox}:read"):
        assert 0 < await redis_client.pttl(key) <= OUTBOX_TTL_MS


async def test_the_dev_sink_keeps_times_wamids_and_read_receipts(bot: Bot) -> None:
    sink = DevSink(bot.app.state.records)
    result = await sink.send(ALICE, Text(body="hello"))
    await sink.send(ALICE, MarkRead(message_id="wamid.IN1", typing=True))
    page = (await bot.client.get(f"/dev/outbox/{ALICE}")).json()
    [item] = [i for i in page["items"] if i["message"].get("body") == "hello"]
    assert item["wamid"] == result.message_id and isinstance(item["sent_at"], int)
    assert all(i["message"]["kind"] != "mark_read" for i in page["items"])  # read receipts are not bubbles
    assert "wamid.IN1" in (await history(bot, ALICE))["read"]


async def test_templates_are_served_as_approved(bot: Bot) -> None:
    served = (await bot.client.get("/simulator/templates")).json()
    assert served == {
        name: {"language": t.language, "body": t.body, "quick_replies": list(t.quick_replies)}
        for name, t in APPROVED.items()
    }


@pytest.mark.parametrize("phone", ["12ab", "1234567", "+263770000001", "2637700000011234"])
async def test_history_refuses_a_bad_number(bot: Bot, phone: str) -> None:
    assert (await bot.client.get(f"/simulator/history/{phone}")).status_code in (404, 422)


async def test_history_and_templates_are_absent_in_production(redis_client: Redis) -> None:
    prod = settings(app_env="production", credex_api_url="http://credex.invalid", credex_client_api_key="k" * 16)
    async with running(make_app(redis=redis_client, settings=prod)) as b:
        for path in (f"/simulator/history/{NEW}", "/simulator/templates", "/simulator/static/bubbles.js"):
            assert (await b.client.get(path)).status_code == 404, path


async def test_an_old_outbox_item_without_times_still_shows(bot: Bot, redis_client: Redis) -> None:
    await bot.app.state.records.outbox_push(NEW, [orjson.dumps({"kind": "text", "body": "old"}).decode()])
    [item] = (await history(bot))["items"]
    assert item["side"] == "bot" and item["at"] is None and item["message"]["body"] == "old"
