"""hypothesis-generated webhook bodies, signed, against the real service (flow tables, credex sandbox, dev outbox)
on the test's real Redis: Meta's real payloads (shared/whatsapp/payloads/) with a wrong value at any field, text in
any unicode, deep nesting, big fields and bodies, a batch of 1,000 messages.

For every body: the answer is 200 (or the documented 413 for a body over WEBHOOK_MAX_BYTES; 503 only if the store
were down), never another 5xx, and it matches its documented schema (WebhookAck or the problem body). The valid
message posted beside a mutated one in the same body is answered, and so are normal messages afterwards.

Budget: FUZZ_BODIES examples per property (default 25; `make fuzz` runs 500), no deadline (timings are never
asserted).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis as sync_redis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from app.api.webhook import WebhookAck
from tests.conftest import SHARED
from tests.flows_kit import ALICE, make_bot_app
from tests.webhook_kit import Bot, envelope, running, text_message, value

BODIES = int(os.environ.get("FUZZ_BODIES", "25"))
PAYLOADS = {p.stem: json.loads(p.read_text()) for p in sorted((SHARED / "whatsapp" / "payloads").glob("*.json"))}
_phones = itertools.count(1)
_ids = itertools.count(1)

FUZZ = settings(
    max_examples=BODIES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


class StrictAck(WebhookAck):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    detail: str


def fresh_phone() -> str:
    return f"2637{next(_phones):08d}"


def fresh_id() -> str:
    return f"wamid.FUZZ{next(_ids):010d}"


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    """One event loop for the module: the service keeps running between hypothesis's examples."""
    with start_blocking_portal() as p:
        yield p


@pytest.fixture(scope="module")
def bot(portal: BlockingPortal, real_redis_url: str) -> Iterator[Bot]:
    sync_redis.Redis.from_url(real_redis_url).flushdb()
    app = make_bot_app(None, redis_url=real_redis_url, inbox_drain_seconds=1.0)
    try:
        with portal.wrap_async_context_manager(running(app)) as b:
            yield b
    finally:
        sync_redis.Redis.from_url(real_redis_url).flushdb()


def post(portal: BlockingPortal, bot: Bot, body: bytes) -> Any:
    """POST signed, check the answer against its schema, wait for the workers; the parsed answer."""
    response = portal.call(bot.post, body)
    assert response.status_code in (200, 413, 503), (response.status_code, response.text[:500])
    if response.status_code == 200:
        return StrictAck.model_validate_json(response.content)
    Problem.model_validate_json(response.content)
    return None


def answered(portal: BlockingPortal, bot: Bot, phone: str) -> bool:
    return bool(portal.call(bot.outbox, phone))


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field and list item of a document, as a path of keys and indexes."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(node, list):
        for n, child in enumerate(node):
            yield (*prefix, n)
            yield from paths(child, (*prefix, n))


def set_at(document: Any, path: tuple[Any, ...], new: Any) -> None:
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new


def retarget(payload: dict[str, Any], phone: str) -> dict[str, Any]:
    """A real payload as if from `phone`, with fresh message ids (the service drops ids it has seen)."""
    doc = copy.deepcopy(payload)
    for entry in doc.get("entry", []):
        for change in entry.get("changes", []):
            v = change.get("value", {})
            for contact in v.get("contacts", []):
                contact["wa_id"] = phone
            for message in v.get("messages", []):
                message["from"], message["id"] = phone, fresh_id()
            for status in v.get("statuses", []):
                status["recipient_id"], status["id"] = phone, fresh_id()
    return doc


def deep(depth: int) -> Any:
    node: Any = "x"
    for n in range(depth):
        node = [node] if n % 2 else {"k": node}
    return node


WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda s: s * 500),
    st.lists(st.integers(), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from([[], {}, "", "0", -1, 0, 1e308, "null", "🦓" * 3000, "x" * 70_000]),
    st.integers(min_value=10, max_value=400).map(deep),
)
"""A value of the wrong type, size or shape: what a field may be replaced with."""


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any], tuple[Any, ...]]:
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    doc = retarget(PAYLOADS[name], fresh_phone())
    path = draw(st.sampled_from(list(paths(doc))))
    set_at(doc, path, draw(WRONG))
    return name, doc, path


def with_valid_beside(doc: dict[str, Any], phone: str) -> tuple[bytes, bool]:
    """The mutated document with a valid text from `phone` as one more change of its first entry, or as one more
    entry; and whether there was an entry list to put it in."""
    good = {"field": "messages", "value": value(text_message(phone, "hi", fresh_id()))}
    entries = doc.get("entry")
    if not isinstance(entries, list):
        return json.dumps(doc).encode(), False
    first = entries[0] if entries else None
    if isinstance(first, dict) and isinstance(first.get("changes"), list):
        first["changes"].append(good)
    else:
        entries.append({"id": "fuzz", "changes": [good]})
    return json.dumps(doc).encode(), True


def test_real_payloads_with_a_wrong_value_anywhere(portal: BlockingPortal, bot: Bot) -> None:
    beside: list[tuple[str, str, tuple[Any, ...], bool]] = []

    @FUZZ
    @given(mutated())
    def one(case: tuple[str, dict[str, Any], tuple[Any, ...]]) -> None:
        name, doc, path = case
        phone = fresh_phone()
        body, included = with_valid_beside(doc, phone)
        ack = post(portal, bot, body)
        # The valid text beside is answered unless the mutation broke the envelope itself (object, entry).
        beside.append((name, phone, path, included and ack is not None and ack.status == "ok"))

    one()
    for name, phone, path, intact in beside:
        if intact:
            assert answered(portal, bot, phone), f"{name}: the valid message beside {path} got no reply"
    assert any(intact for *_, intact in beside)
    still_handled(portal, bot)


def still_handled(portal: BlockingPortal, bot: Bot) -> None:
    """A normal message afterwards, from a demo member and from a new number, is still answered; no update was
    given up (a worker that raised on an accepted update would retry it and dead-letter it) and no step raised."""
    for phone in (ALICE, fresh_phone()):
        before = len(portal.call(bot.outbox, phone))
        post(portal, bot, json.dumps(envelope(value(text_message(phone, "hi", fresh_id())))).encode())
        assert len(portal.call(bot.outbox, phone)) > before, phone
    metrics = portal.call(bot.client.get, "/metrics").text
    for line in metrics.splitlines():
        if line.startswith(
            ("inbox_dead_letters_total", "inbox_retries_total", "flow_errors_total", "inbox_dead_entries")
        ):
            assert line.endswith(" 0.0"), line


@FUZZ
@given(text=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=4096), name=st.text(max_size=300))
def test_any_unicode_text_and_profile_name(portal: BlockingPortal, bot: Bot, text: str, name: str) -> None:
    phone = fresh_phone()
    doc = envelope(value(text_message(phone, text, fresh_id())))
    doc["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = name
    ack = post(portal, bot, json.dumps(doc, ensure_ascii=bool(len(text) % 2)).encode())
    assert ack is not None and ack.status == "ok" and ack.messages + ack.rejected == 1
    if ack.messages == 1:
        assert answered(portal, bot, phone)


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_deep_nesting(portal: BlockingPortal, bot: Bot, depth: int) -> None:
    phone = fresh_phone()
    doc = envelope(value(text_message(phone, "hi", fresh_id())))
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = "DEEP"
    raw = json.dumps(doc).replace('"DEEP"', "[" * depth + "]" * depth).encode()
    post(portal, bot, raw)
    still_handled(portal, bot)


@pytest.mark.parametrize(
    "field", ["text", "id", "from", "name", "body"], ids=["text-1MB", "id-1MB", "from-1MB", "name-1MB", "body-5MB"]
)
def test_big_fields_and_bodies(portal: BlockingPortal, bot: Bot, field: str) -> None:
    phone = fresh_phone()
    message = text_message(phone, "hi", fresh_id())
    doc = envelope(value(message))
    big = "x" * 1_000_000
    if field == "text":
        message["text"]["body"] = big
    elif field in ("id", "from"):
        message[field] = big
    elif field == "name":
        doc["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = big
    else:
        message["text"]["body"] = "x" * 5_000_000  # over WEBHOOK_MAX_BYTES (4 MB)
    body = json.dumps({**doc, "entry": [*doc["entry"]]}).encode()
    ack = post(portal, bot, body)
    if field == "body":
        assert ack is None
    else:
        assert ack is not None and ack.status == "ok" and ack.messages + ack.rejected == 1
    still_handled(portal, bot)


def test_a_batch_of_1000_messages_with_one_mutated(portal: BlockingPortal, bot: Bot) -> None:
    phones = [fresh_phone() for _ in range(100)]
    messages = [text_message(phones[n % 100], f"hi {n}", fresh_id()) for n in range(1_000)]
    bad = text_message(fresh_phone(), "hi", fresh_id())
    bad["text"] = {"body": ["not", "a", "string"]}
    doc = envelope(*(value(m) for m in messages), value(bad), entries=10)
    ack = post(portal, bot, json.dumps(doc).encode())
    assert ack is not None and (ack.messages, ack.rejected) == (1_000, 1)
    for phone in phones:
        assert len(portal.call(bot.outbox, phone)) >= 1, phone
    still_handled(portal, bot)
