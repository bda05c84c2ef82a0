"""The OpenAPI document as an integrator meets it: valid 3.1, every `$ref` resolvable, every answer a route can
give documented, realistic examples that the service really accepts; and DOCS_ENABLED deciding who sees it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import fakeredis
import httpx
import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate

from app.api.webhook_docs import BUTTON_EXAMPLE, STATUS_EXAMPLE, TEXT_EXAMPLE
from app.config import Settings
from app.main import create_app
from tests.webhook_kit import APP_SECRET, Bot, make_app, running, settings

PRODUCTION = {
    "app_env": "production",
    "whatsapp_app_secret": APP_SECRET,
    "whatsapp_verify_token": "verify-token",
    "credex_api_url": "http://credex.invalid",
    "credex_client_api_key": "k" * 16,
}


def app_for(mode: str, **overrides: Any) -> FastAPI:
    values: dict[str, Any] = dict(PRODUCTION) if mode == "production" else {"app_env": "development"}
    values.update(overrides)
    return create_app(Settings(**values), redis=fakeredis.FakeAsyncRedis())


async def get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
        return await client.get(path)


@pytest.fixture(params=["development", "production"])
async def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    response = await get(app_for(request.param, docs_enabled=True), "/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_document_is_valid_openapi_31_and_every_ref_resolves(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)
    found = sorted(set(refs(document)))
    assert "#/components/schemas/WhatsAppMessage" in found
    for ref in found:
        resolve(document, ref)
    assert "$defs" not in json.dumps(document)


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schema = media.get("schema", {})
            target = resolve(document, schema["$ref"]) if "$ref" in schema else schema
            has_example = media.get("examples") or media.get("example") or target.get("examples")
            assert has_example, f"{method.upper()} {path} has no request example"


def test_webhook_documents_what_it_answers(document: dict[str, Any]) -> None:
    verify = document["paths"]["/webhook"]["get"]
    assert set(verify["responses"]) == {"200", "403", "422"}
    assert "text/plain" in verify["responses"]["200"]["content"]
    assert "text/plain" in verify["responses"]["403"]["content"]
    receive = document["paths"]["/webhook"]["post"]
    assert set(receive["responses"]) == {"200", "401", "403", "413", "503"}
    for status in ("401", "403", "413", "503"):
        assert receive["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("WebhookProblem")
    [header] = [p for p in receive["parameters"] if p["name"].lower() == "x-hub-signature-256"]
    assert header["required"] is True and header["in"] == "header"
    body = receive["requestBody"]
    assert body["required"] is True
    assert set(body["content"]["application/json"]["examples"]) == {"text", "button_reply", "status"}


def test_admin_and_notify_document_their_refusals(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths["/admin/sessions"]["get"]["responses"]) == {"200", "401", "404", "503"}
    assert set(paths["/admin/sessions/{channel_id}"]["get"]["responses"]) == {"200", "401", "404", "409", "422", "503"}
    assert set(paths["/admin/sessions/{channel_id}"]["delete"]["responses"]) == {"200", "401", "404", "422", "503"}
    notify = paths["/notify"]["post"]
    assert set(notify["responses"]) == {"202", "400", "401", "422", "429", "503"}
    phone = document["components"]["schemas"]["NotifyRequest"]["properties"]["phoneNumber"]
    assert phone["pattern"] == "^[0-9]{8,15}$"


@pytest.fixture
async def echo_bot() -> AsyncIterator[Bot]:
    async with running(make_app(redis=fakeredis.FakeAsyncRedis())) as bot:
        yield bot


@pytest.mark.parametrize("example", [TEXT_EXAMPLE, BUTTON_EXAMPLE], ids=["text", "button_reply"])
async def test_the_message_examples_are_accepted_and_answered(echo_bot: Bot, example: dict[str, Any]) -> None:
    response = await echo_bot.post(json.dumps(example).encode())
    assert response.status_code == 200, response.text
    sender = example["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    assert await echo_bot.outbox(sender) != []


async def test_the_status_example_is_accepted(echo_bot: Bot) -> None:
    response = await echo_bot.post(json.dumps(STATUS_EXAMPLE).encode())
    assert response.status_code == 200, response.text
    assert await echo_bot.outbox(STATUS_EXAMPLE["entry"][0]["changes"][0]["value"]["statuses"][0]["recipient_id"]) == []


DOC_PATHS = ("/openapi.json", "/docs", "/redoc")


@pytest.mark.parametrize(
    ("mode", "docs_enabled", "served"),
    [
        ("development", None, True),
        ("production", None, False),
        ("production", True, True),
        ("development", False, False),
    ],
)
async def test_docs_enabled_decides_whether_docs_are_served(mode: str, docs_enabled: bool | None, served: bool) -> None:
    app = app_for(mode, docs_enabled=docs_enabled)
    for path in DOC_PATHS:
        assert (await get(app, path)).status_code == (200 if served else 404), path


def test_docs_enabled_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name.upper(), str(value))
    monkeypatch.setenv("DOCS_ENABLED", "true")
    assert Settings().serves_docs
    monkeypatch.delenv("DOCS_ENABLED")
    assert not Settings().serves_docs
    assert settings().serves_docs


async def test_docs_pages_load_only_packaged_assets() -> None:
    app = app_for("development")
    for page in ("/docs", "/redoc"):
        response = await get(app, page)
        assert "default-src 'self'" in response.headers["content-security-policy"], page
        html = response.text
        assert "cdn." not in html and "fonts.googleapis" not in html, page
        assets = [part.split('"')[0] for part in html.split('src="')[1:]] + [
            part.split('"')[0] for part in html.split('href="')[1:]
        ]
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset}"
            response = await get(app, asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 100, asset
