"""POST /notify: credex-core asks the bot to tell a member something, outside any conversation.

A member may not have written in 24 hours, and then WhatsApp accepts only a pre-approved template (131047), so
the notice always goes out as the `credex_notification` template with the member's name and the message as its
body parameters, and its *View offers* quick-reply button carries the payload `view_offers`, which the bot reads
as "show my pending offers" from any step (app/flows/runner.py). It is queued in the inbox as replies for that
person, so it is durable, keeps its place among the person's replies, and goes through the same sender (Cloud
API, or the dev outbox).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, HTTPException, Request, Security, status
from fastapi.openapi.models import Example
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.api.deps import InboxDep, SettingsDep
from app.api.rate import over_limit
from app.credex.wiring import SANDBOX_KEY
from app.inbox.inbox import NewEntry
from app.logs import get_logger
from app.masking import mask_phone
from app.sender.replies import encode_replies
from app.state.errors import StateError
from app.state.side_records import PersonNotes
from app.whatsapp.messages import TEMPLATE_BODY_MAX, Template, fit
from app.whatsapp.templates import CREDEX_NOTIFICATION, VIEW_OFFERS_PAYLOAD

log = get_logger(__name__)
router = APIRouter(tags=["credex-core"])

TEMPLATE_NAME = CREDEX_NOTIFICATION.name
TEMPLATE_LANGUAGE = CREDEX_NOTIFICATION.language
CLIENT_KEY = APIKeyHeader(
    name="x-client-api-key",
    scheme_name="CredexClientApiKey",
    description="The client API key shared with credex-core (CREDEX_CLIENT_API_KEY).",
    auto_error=False,
)


NOTIFY_EXAMPLES: dict[str, Example] = {
    "offer": {
        "summary": "A new offer for a member",
        "value": {
            "phoneNumber": "263770000002",
            "memberName": "Demo Bob",
            "message": "Demo Alice offered you 25.00 USD secured. Open the bot to accept or decline.",
        },
    }
}


def _one_line(value: Any) -> Any:
    """Template parameters cannot hold newlines, tabs or runs of spaces (Graph error 132018): collapse them."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _digits(value: Any) -> Any:
    """'+263 77 000 0001' → '263770000001'; anything else is left for the pattern to refuse."""
    if isinstance(value, str):
        return "".join(value.split()).removeprefix("+")
    return value


class NotifyRequest(BaseModel):
    """What credex-core sends (the field names of the original VimbisoPay bot's /notify)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    # Field before BeforeValidator, or the pattern (still enforced) drops out of the JSON schema.
    phone: Annotated[
        str,
        Field(
            alias="phoneNumber",
            pattern=r"^[0-9]{8,15}$",
            description="The member's WhatsApp number: 8 to 15 digits, country code first; a leading '+' and "
            "spaces are dropped before the check",
            examples=["263770000001"],
        ),
        BeforeValidator(_digits),
    ]
    member_name: Annotated[
        str,
        BeforeValidator(_one_line),
        Field(alias="memberName", min_length=1, max_length=100, examples=["Demo Alice"]),
    ]
    message: Annotated[
        str,
        BeforeValidator(_one_line),
        Field(min_length=1, max_length=900, examples=["You have a new offer of 25.00 USD from Demo Bob."]),
    ]


class NotifyAccepted(BaseModel):
    status: Literal["accepted", "opted_out"] = Field(
        "accepted", description="`opted_out`: the member wrote *stop* and has not written since; nothing is sent"
    )
    template: str = TEMPLATE_NAME
    recipient: str = Field(description="The phone number, masked")


class NotifyProblem(BaseModel):
    detail: str


def notification(member_name: str, message: str) -> Template:
    """The template with its *View offers* button set to open the pending offers when tapped. A long name and
    message together could pass the body's 1,024 characters (100 + 900 + the fixed words): the message is
    shortened to fit, with "…", rather than the notice refused."""
    room = TEMPLATE_BODY_MAX - len(CREDEX_NOTIFICATION.render((member_name, "")))
    return Template(
        name=TEMPLATE_NAME,
        language=TEMPLATE_LANGUAGE,
        body_parameters=(member_name, fit(message, room, field="notify.message")),
        quick_reply_payloads=(VIEW_OFFERS_PAYLOAD,),
    )


def expected_key(settings: SettingsDep) -> str | None:
    if settings.credex_client_api_key is not None:
        return settings.credex_client_api_key.get_secret_value()
    return SANDBOX_KEY if settings.is_development else None


async def require_client_key(settings: SettingsDep, key: Annotated[str | None, Security(CLIENT_KEY)] = None) -> None:
    """Constant-time comparison, so the key cannot be guessed byte by byte from response times."""
    expected = expected_key(settings)
    if not key or expected is None or not hmac.compare_digest(key.encode(), expected.encode()):
        log.warning("notify_refused", reason="missing key" if not key else "wrong key")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or missing x-client-api-key")


@router.post(
    "/notify",
    summary="credex-core asks us to notify a member on WhatsApp",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NotifyAccepted,
    dependencies=[Depends(require_client_key)],
    responses={
        400: {
            "model": NotifyProblem,
            "description": "The body is not UTF-8 text, so it cannot be read as JSON: nothing is sent",
            "content": {"application/json": {"example": {"detail": "There was an error parsing the body"}}},
        },
        401: {
            "model": NotifyProblem,
            "description": "x-client-api-key missing or wrong",
            "content": {"application/json": {"example": {"detail": "invalid or missing x-client-api-key"}}},
        },
        422: {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
            "description": "The body is not JSON, or a field is missing or out of bounds (phoneNumber not 8 to 15 "
            "digits, memberName not 1 to 100 characters, message not 1 to 900): nothing is sent",
        },
        429: {
            "model": NotifyProblem,
            "description": "More than NOTIFY_PER_RECIPIENT_PER_MINUTE for this phone, or NOTIFY_PER_MINUTE in all, "
            "this minute: nothing is sent; retry after `Retry-After` seconds",
            "content": {"application/json": {"example": {"detail": "too many notifications, retry later"}}},
        },
        503: {
            "model": NotifyProblem,
            "description": "The inbox is unavailable (Redis did not acknowledge); retry later",
            "content": {"application/json": {"example": {"detail": "inbox unavailable, retry later"}}},
        },
    },
)
async def notify(
    body: Annotated[NotifyRequest, Body(openapi_examples=NOTIFY_EXAMPLES)],
    request: Request,
    inbox: InboxDep,
) -> NotifyAccepted:
    """Accepted once queued: the template is sent by the person's worker, so credex-core never waits on Meta.

    A member who wrote *stop* gets nothing until they write again (Meta's opt-out policy); credex-core is told
    so in the answer, still 202: the request was fine, and a retry would not change it."""
    masked = mask_phone(body.phone)
    settings = request.app.state.settings
    limits = [
        (f"notify:rate:{{{body.phone}}}", settings.notify_per_recipient_per_minute),
        ("notify:rate:all", settings.notify_per_minute),
    ]
    try:
        wait = await over_limit(request.app.state.redis, limits)
    except StateError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "inbox unavailable, retry later") from exc
    if wait is not None:
        log.warning("notify_rate_limited", to=masked)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many notifications, retry later", {"Retry-After": str(wait)}
        )
    notes: PersonNotes | None = getattr(request.app.state, "notes", None)
    if notes is not None and await notes.opted_out(body.phone):
        log.info("notify_skipped_opted_out", to=masked)
        return NotifyAccepted(status="opted_out", recipient=masked)
    template = notification(body.member_name, body.message)
    work = secrets.token_hex(8)
    replies = [orjson.loads(r) for r in encode_replies(body.phone, f"notify.{work}", [template])]
    try:
        await inbox.append([NewEntry("r", body.phone, orjson.dumps({"work": work, "replies": replies}))])
    except StateError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "inbox unavailable, retry later") from exc
    log.info("notify_accepted", to=masked, template=TEMPLATE_NAME)
    return NotifyAccepted(recipient=masked)
