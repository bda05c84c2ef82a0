"""The inbox in one process: the 200 does not wait for the work, one bad update costs only itself, the reply
outbox is written by the commit, the dev sink shows the exact Cloud API body. Both stores (fixtures)."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app.credex.wiring import SANDBOX_KEY
from app.inbox.inbox import Inbox, NewEntry
from app.state.factory import build_store
from app.state.keys import channel_keys
from app.whatsapp.outbound import SendResult
from app.whatsapp.split import split_body
from tests.conftest import SHARED, make_settings
from tests.credex_support import Wrapper
from tests.flows_kit import ALICE, BOB, Person, bot_with
from tests.webhook_kit import body_of, envelope, make_app, running, settings, text_message, value

PAYLOADS = SHARED / "whatsapp" / "payloads"


class SlowCredex(Wrapper):
    """credex-core answering every call after 2 s."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(2.0)
        return await self.inner.handle_async_request(request)


class SlowGraph:
    """A Cloud API that takes 300 ms per send; records what it accepted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def send(self, recipient: str, message: Any) -> SendResult:
        await asyncio.sleep(0.3)
        self.sent.append((recipient, message))
        return SendResult(ok=True, message_id=f"wamid.{len(self.sent)}")


async def test_the_200_does_not_wait_for_credex_core_or_the_cloud_api(redis_client: Redis) -> None:
    graph = SlowGraph()
    app = make_app(redis=redis_client, runner=None, sender=graph, wrap_credex_transport=SlowCredex)
    async with running(app) as bot:
        started = time.perf_counter()
        response = await bot.post(body_of(text_message(ALICE, "hi")), settle=False)
        answered = time.perf_counter() - started
        assert response.status_code == 200 and response.json()["messages"] == 1
        assert graph.sent == []  # answered before any of the work: 2 s of credex-core, 300 ms per send
        assert answered < 1.0
        await bot.settle(20)
        assert graph.sent and graph.sent[0][0] == ALICE  # and the reply still arrives


async def test_a_malformed_update_costs_only_itself(bot: Any) -> None:
    good_alice = value(text_message(ALICE, "hi"))
    good_bob = value(text_message(BOB, "hi"))
    bad = value(text_message("263770000003", "hi"))
    bad["messages"][0]["text"]["body"] = 12345  # a number where Meta sends a string
    bad_contact = value(text_message("263770000004", "hi"))
    bad_contact["contacts"][0]["profile"]["name"] = 7
    response = await bot.post(json.dumps(envelope(good_alice, bad, bad_contact, good_bob)).encode())
    assert response.status_code == 200
    assert response.json()["messages"] == 3 and response.json()["rejected"] == 2
    for person in (ALICE, BOB, "263770000004"):  # a bad contact drops the contact, not the message
        assert await bot.texts(person), person
    assert await bot.texts("263770000003") == []
    metrics = (await bot.client.get("/metrics")).text
    assert 'webhook_rejected_updates_total{part="message"} 1.0' in metrics
    assert 'webhook_rejected_updates_total{part="contact"} 1.0' in metrics


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _leaves(child, (*path, key))] or [path]
    if isinstance(node, list):
        return [p for n, child in enumerate(node) for p in _leaves(child, (*path, n))] or [path]
    return [path]


def _set(node: Any, path: tuple[Any, ...], new: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new


def _wrong(value_: Any) -> Any:
    return 12345 if isinstance(value_, str) else "not-a-number" if isinstance(value_, int | float) else {"x": [1]}


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("*.json")))
def test_a_wrong_type_at_any_field_of_a_real_payload_never_takes_the_neighbour_with_it(name: str) -> None:
    """Every leaf of every real payload mutated to a wrong type, beside a valid message of another person."""
    original = json.loads((PAYLOADS / name).read_text())
    neighbour = {"field": "messages", "value": value(text_message(BOB, "still here"))}
    for path in _leaves(original):
        if path[:1] != ("entry",) or len(path) < 4:
            continue
        # A list or an object too, wherever a string is expected: unhashable, so no lookup may take it raw.
        for wrong in (_wrong(_get(original, path)), [1], {"x": 1}):
            mutated = copy.deepcopy(original)
            _set(mutated, path, wrong)
            mutated["entry"].append({"id": "neighbour", "changes": [neighbour]})
            split = split_body(mutated)
            assert [u.channel_id for u in split.units if u.channel_id == BOB] == [BOB], (path, wrong)
            assert all(len(r.reason) <= 200 for r in split.rejected)


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


async def test_replies_are_in_the_outbox_with_the_commit_and_gone_once_sent(redis_client: Redis) -> None:
    store = build_store(make_settings(), redis_client)
    await store.redis_atomic.load_scripts()
    async with store.session(ALICE, "wamid.1") as state:
        state.messaging.send("first")
        state.messaging.send("second")
    assert len(state.outbox) == 2
    replies = channel_keys(ALICE).replies
    assert await redis_client.llen(replies) == 2  # durable, written by the commit itself
    async with store.session(ALICE, "wamid.1") as again:  # a redelivery: a duplicate that still sees them
        assert again.duplicate and again.outbox == state.outbox
    assert await store.redis_atomic.ack_reply(ALICE, state.outbox[0])
    assert not await store.redis_atomic.ack_reply(ALICE, state.outbox[0])  # a repeated ack is harmless
    assert await redis_client.lrange(replies, 0, -1) == [state.outbox[1]]


async def test_a_commit_repeated_after_a_dead_connection_is_recognised(redis_client: Redis) -> None:
    store = build_store(make_settings(), redis_client)
    await store.redis_atomic.load_scripts()
    ra = store.redis_atomic
    begun = await ra.begin(ALICE, "wamid.1", "token-1")
    first = await ra.commit(ALICE, "token-1", 0, b"{}", b"{}", "wamid.1", [b"r"])
    again = await ra.commit(ALICE, "token-1", 0, b"{}", b"{}", "wamid.1", [b"r"])  # its reply was lost
    assert begun and first.version == again.version == 1
    assert await redis_client.lrange(channel_keys(ALICE).replies, 0, -1) == [b"r"]  # not written twice


async def test_the_dev_sink_keeps_the_exact_cloud_api_body(bot: Any) -> None:
    await Person(bot, ALICE).say("hi")
    page = (await bot.client.get(f"/dev/outbox/{ALICE}")).json()
    request = page["items"][0]["request"]
    assert request["messaging_product"] == "whatsapp" and request["to"] == ALICE
    assert request["type"] in {"text", "interactive"}
    assert (await bot.client.get("/dev/outbox/a%20b")).status_code == 422


async def test_notify_waits_for_nothing_and_is_delivered_in_order(redis_client: Redis) -> None:
    async with bot_with(redis_client) as bot:
        await Person(bot, ALICE).say("hi")
        body = {"phoneNumber": ALICE, "memberName": "Demo Alice", "message": "New offer."}
        key = {"x-client-api-key": SANDBOX_KEY}
        assert (await bot.client.post("/notify", json=body, headers=key)).status_code == 202
        last = (await bot.outbox(ALICE))[-1]
        assert last["kind"] == "template"


async def test_a_sender_that_raises_dead_letters_the_reply_and_the_person_goes_on(redis_client: Redis) -> None:
    class Broken:
        calls = 0

        async def send(self, recipient: str, message: Any) -> SendResult:
            if message.kind == "mark_read":
                raise RuntimeError("a read receipt that fails changes nothing")
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("bug")
            return SendResult(ok=True, message_id="wamid.x")

    broken = Broken()
    async with running(make_app(redis=redis_client, sender=broken)) as bot:
        await bot.post(body_of(text_message(ALICE, "one")))
        await bot.post(body_of(text_message(ALICE, "two")))
        letters = await bot.app.state.dead_letters.list()
        assert [letter.channel_id for letter in letters] == [ALICE]
        assert broken.calls == 2
        assert await redis_client.llen(channel_keys(ALICE).replies) == 0


async def test_a_full_partition_answers_503_and_keeps_nothing_half_done(redis_client: Redis) -> None:
    """The inbox is bounded: past INBOX_MAX_ENTRIES a partition refuses, so Meta keeps the update and retries."""
    app = make_app(redis=redis_client, settings=settings(inbox_max_entries=100, inbox_partitions=1))
    async with running(app) as bot:
        await app.state.workers.stop()  # nobody reads: the partition fills up
        for n in range(100):
            assert (await bot.post(body_of(text_message(ALICE, f"m{n}")), settle=False)).status_code == 200
        refused = await bot.post(body_of(text_message(ALICE, "one too many")), settle=False)
        assert refused.status_code == 503
        assert await redis_client.xlen("inbox:{p0}") == 100


async def test_a_changed_number_moves_state_replies_and_processed_ids(redis_client: Redis) -> None:
    """Meta's `user_changed_number` (the real payload): the person continues under the new id, nothing lost."""
    payload = json.loads((PAYLOADS / "system_user_changed_number_01.json").read_text())
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    old, new = message["from"], message["system"]["wa_id"]
    async with running(make_app(redis=redis_client)) as bot:
        await bot.post(body_of(text_message(old, "one", "wamid.before")))
        assert (await bot.post(json.dumps(payload).encode())).status_code == 200
        assert not await redis_client.exists(channel_keys(old).state)
        assert await redis_client.get(channel_keys(old).moved) == new.encode()
        assert await redis_client.hget(channel_keys(new).state, "v") is not None
        assert await redis_client.zscore(channel_keys(new).seen, "wamid.before") is not None
        await bot.post(body_of(text_message(new, "two")))
        assert (await bot.texts(new))[-1] == "#2: two"  # the count went on: same conversation
        assert (await bot.post(json.dumps(payload).encode())).status_code == 200  # a redelivery changes nothing
        assert (await bot.texts(new))[-1] == "#2: two"


async def test_each_message_is_marked_read_with_the_typing_indicator_through_the_sender(redis_client: Redis) -> None:
    graph = SlowGraph()
    async with running(make_app(redis=redis_client, sender=graph)) as bot:
        message = text_message(ALICE, "hi")
        await bot.post(body_of(message))
        reaction = {"from": ALICE, "id": "wamid.reaction", "timestamp": "1700000000", "type": "reaction"}
        reaction["reaction"] = {"message_id": message["id"], "emoji": "👍"}
        await bot.post(body_of(reaction))
        place = {"from": ALICE, "id": "wamid.place", "timestamp": "1700000001", "type": "location"}
        place["location"] = {"latitude": -17.8, "longitude": 31.0}
        await bot.post(body_of(place))
    reads = [m for _, m in graph.sent if m.kind == "mark_read"]
    # the reaction is not marked; a shared location is (the person sees ticks on it)
    assert [(r.message_id, r.typing) for r in reads] == [(message["id"], True), ("wamid.place", True)]
    assert reads[0].to_payload(ALICE)["typing_indicator"] == {"type": "text"}


async def test_concurrent_appends_share_one_pipeline_and_each_post_stays_in_order(redis_client: Redis) -> None:
    """The appends of POSTs arriving in the same tick travel together; each POST's entries stay contiguous and in
    order in the partition, so one person's messages are read in the order Meta sent them."""
    inbox = Inbox(redis_client, partitions=1)
    posts = [[NewEntry("m", ALICE, f"{post}:{n}".encode()) for n in range(3)] for post in range(4)]
    before = inbox.batcher.batches
    ids = await asyncio.gather(*(inbox.append(post) for post in posts))
    assert inbox.batcher.batches - before == 1
    assert all(len(post_ids) == 3 for post_ids in ids)
    stream = await redis_client.xrange(inbox.stream_for(ALICE))
    data = [fields[b"d"].decode() for _, fields in stream]
    for post in range(4):
        mine = [d for d in data if d.startswith(f"{post}:")]
        assert mine == [f"{post}:{n}" for n in range(3)]
        start = data.index(f"{post}:0")
        assert data[start : start + 3] == mine


async def test_appends_after_the_server_lost_its_scripts_land_once_each(redis_client: Redis) -> None:
    """A restarted or flushed server answers NOSCRIPT: the batcher loads the script and reruns only the refused
    calls, so every entry of the POST is stored exactly once, in order."""
    inbox = Inbox(redis_client, partitions=1)
    await inbox.scripts.load(redis_client)
    await redis_client.script_flush()
    await inbox.append([NewEntry("m", ALICE, f"x:{n}".encode()) for n in range(3)])
    stream = await redis_client.xrange(inbox.stream_for(ALICE))
    assert [fields[b"d"] for _, fields in stream] == [b"x:0", b"x:1", b"x:2"]
