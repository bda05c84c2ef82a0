"""The OpenAPI description of `/webhook`: Meta's envelope as resolvable components, real examples, every answer.

The envelope models (`app/whatsapp/envelope.py`) become components named `WhatsApp<Model>` so they cannot clash
with the service's own models; `app/api/openapi.py` adds `COMPONENTS` to the document. The examples follow the
shapes Meta sends (`shared/whatsapp/payloads/`), with a demo member's number.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.whatsapp.inbound import WebhookPayload

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "WhatsApp"
_PHONE = "263770000002"
_PHONE_NUMBER_ID = "1122334455667"


def _components() -> dict[str, Any]:
    schema = WebhookPayload.model_json_schema(ref_template=f"#/components/schemas/{_PREFIX}{{model}}")
    defs = schema.pop("$defs", {})
    return {"WebhookPayload": schema, **{f"{_PREFIX}{name}": value for name, value in defs.items()}}


COMPONENTS: dict[str, Any] = _components()
"""Schemas to add to `components.schemas`: the envelope and every model it refers to."""


class WebhookProblem(BaseModel):
    detail: str


def _envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def _inbound(message: dict[str, Any], phone: str = _PHONE, name: str = "Demo Bob") -> dict[str, Any]:
    return _envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": _PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": name}, "wa_id": phone, "user_id": "ZW.1349120865530274191"}],
            "messages": [{"from": phone, "timestamp": "1764633600", **message}],
        }
    )


def text_webhook(phone: str, text: str, message_id: str, name: str = "Demo Bob") -> dict[str, Any]:
    """The envelope Meta posts for one text message (also what `python -m app.sign --text` signs)."""
    return _inbound({"id": message_id, "type": "text", "text": {"body": text}}, phone, name)


TEXT_EXAMPLE = text_webhook(_PHONE, "hi", "wamid.HBgMMjYzNzcwMDAwMDAyFQIAEhgUM0E5RjQ2")
BUTTON_EXAMPLE = _inbound(
    {
        "id": "wamid.HBgMMjYzNzcwMDAwMDAyFQIAEhgUM0E5RjQ3",
        "context": {"from": "15550783881", "id": "wamid.HBgMMjYzNzcwMDAwMDAyFQIAERgSQzE5"},
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "confirm", "title": "Sign and send"}},
    }
)
STATUS_EXAMPLE = _envelope(
    {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": _PHONE_NUMBER_ID},
        "statuses": [
            {
                "id": "wamid.HBgMMjYzNzcwMDAwMDAyFQIAERgSQzE5",
                "status": "delivered",
                "timestamp": "1764633605",
                "recipient_id": _PHONE,
                "pricing": {
                    "billable": False,
                    "pricing_model": "PMP",
                    "category": "service",
                    "type": "free_customer_service",
                },
            }
        ],
    }
)

RECEIVE_OPENAPI: dict[str, Any] = {
    "description": (
        "Meta posts every message and delivery status here. The body must be signed: "
        f"`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the raw body, keyed with WHATSAPP_APP_SECRET>`. "
        "One POST may carry many entries, changes, messages and statuses; each person's updates are handled in order."
    ),
    "parameters": [
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "description": "`sha256=` and the lowercase hex HMAC-SHA256 of the raw body with the app secret",
            "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
            "example": "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/WebhookPayload"},
                "examples": {
                    "text": {"summary": "A text message", "value": TEXT_EXAMPLE},
                    "button_reply": {"summary": "A tap on a reply button", "value": BUTTON_EXAMPLE},
                    "status": {"summary": "A delivery status of a reply we sent", "value": STATUS_EXAMPLE},
                },
            }
        },
    },
    # No 422: the body is read raw and the header is checked by hand, so validation never answers.
    "x-no-validation-error": True,
}
"""`openapi_extra` of POST /webhook (the header entry replaces the one FastAPI derives from the signature)."""

_PLAIN = "text/plain"

VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Verified: `hub.challenge`, echoed verbatim",
        "content": {_PLAIN: {"schema": {"type": "string"}, "example": "1158201444"}},
    },
    403: {
        "description": "`hub.mode` is not `subscribe` or `hub.verify_token` is not WHATSAPP_VERIFY_TOKEN",
        "content": {_PLAIN: {"schema": {"type": "string"}, "example": "forbidden"}},
    },
    422: {
        "description": "`hub.challenge` longer than 512 characters",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
    },
}

RECEIVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Accepted: every valid update is durably in the inbox (handled after this answer, by the "
        "workers). Malformed updates are counted in `rejected`, logged and skipped; the others are unaffected. "
        "`ignored` when the body is signed but is not a WhatsApp envelope: a retry would carry the same bytes, "
        "so Meta is told not to resend it",
        "content": {
            "application/json": {
                "examples": {
                    "ok": {"value": {"status": "ok", "messages": 1, "statuses": 0, "rejected": 0}},
                    "ignored": {
                        "value": {"status": "ignored", "messages": 0, "statuses": 0, "detail": "invalid payload"}
                    },
                }
            }
        },
    },
    401: {
        "model": WebhookProblem,
        "description": f"`{SIGNATURE_HEADER}` missing",
        "content": {"application/json": {"example": {"detail": "missing signature"}}},
    },
    403: {
        "model": WebhookProblem,
        "description": "The signature does not match the raw body",
        "content": {"application/json": {"example": {"detail": "invalid signature"}}},
    },
    413: {
        "model": WebhookProblem,
        "description": "Body larger than WEBHOOK_MAX_BYTES",
        "content": {"application/json": {"example": {"detail": "body too large"}}},
    },
    503: {
        "model": WebhookProblem,
        "description": "Nothing was kept (the state store is unreachable or busy): Meta retries later",
        "content": {"application/json": {"example": {"detail": "state store unavailable, retry later"}}},
    },
}
