"""Admin API: look at and reset a session when a customer complains. Bearer ADMIN_TOKEN on every route."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field

from app.api.deps import DeadLettersDep, InboxDep, SettingsDep, StoreDep
from app.channel_ids import CHANNEL_ID_PATTERN
from app.inbox.inbox import NewEntry
from app.masking import mask_phone
from app.sender.dead import DeadLetter

CHANNEL = Path(pattern=CHANNEL_ID_PATTERN, description="wa_id or business-scoped user id", examples=["263770000001"])
bearer = HTTPBearer(auto_error=False, description="ADMIN_TOKEN")
DISABLED = "admin API disabled: no ADMIN_TOKEN configured"
UNAVAILABLE = "state store unavailable, retry later"


async def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    expected = settings.admin_token
    if expected is None or not expected.get_secret_value():
        raise HTTPException(status.HTTP_404_NOT_FOUND, DISABLED)
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad or missing admin token", {"WWW-Authenticate": "Bearer"})


class AdminProblem(BaseModel):
    detail: str


def _problem(description: str, detail: str) -> dict[str, Any]:
    return {
        "model": AdminProblem,
        "description": description,
        "content": {"application/json": {"example": {"detail": detail}}},
    }


ROUTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("`Authorization: Bearer` missing or not ADMIN_TOKEN", "bad or missing admin token"),
    404: _problem("The admin API is disabled (ADMIN_TOKEN unset)", DISABLED),
    503: _problem("The state store is unreachable: retry later", UNAVAILABLE),
}
GET_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _problem(
        "No live session for this channel, or the admin API is disabled (ADMIN_TOKEN unset)", "no live session"
    ),
    409: _problem("The stored state cannot be read (invalid or from a newer release)", "state unreadable: ..."),
}

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)], responses=ROUTER_RESPONSES)


class SessionView(BaseModel):
    channel_id: str
    state: dict[str, Any] | None
    ttl_seconds: float | None


class SessionCount(BaseModel):
    live_sessions: int


class Deleted(BaseModel):
    channel_id: str
    deleted: bool


@router.get("/sessions", response_model=SessionCount, summary="How many sessions are live (SCAN, never KEYS)")
async def count_sessions(store: StoreDep) -> SessionCount:
    count = 0
    async for _ in store.redis_atomic.scan_channels():
        count += 1
    return SessionCount(live_sessions=count)


@router.get(
    "/sessions/{channel_id}",
    response_model=SessionView,
    summary="A session's state, tokens redacted",
    responses=GET_RESPONSES,
)
async def get_session(channel_id: Annotated[str, CHANNEL], store: StoreDep) -> SessionView:
    ok, state, error = await store.atomic.execute_atomic(channel_id, "get")
    if not ok:
        raise HTTPException(status.HTTP_409_CONFLICT, f"state unreadable: {error}")
    if state is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no live session")
    ttl = await store.redis_atomic.ttl_ms(channel_id)
    # model_dump without the reveal context masks every secret (the JWT) as '**********'.
    return SessionView(
        channel_id=channel_id,
        state=state.model_dump(mode="json", by_alias=True),
        ttl_seconds=ttl / 1000 if ttl > 0 else None,
    )


@router.delete("/sessions/{channel_id}", response_model=Deleted, summary="Reset a session (processed ids are kept)")
async def delete_session(channel_id: Annotated[str, CHANNEL], store: StoreDep) -> Deleted:
    ok, deleted, error = await store.atomic.execute_atomic(channel_id, "delete")
    if not ok:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, error or "store unavailable")
    return Deleted(channel_id=channel_id, deleted=bool(deleted))


class DeadLetterView(BaseModel):
    id: str
    channel_id: str = Field(description="masked")
    code: int | None = Field(description="the Graph API error code, when Meta gave one")
    reason: str
    at_ms: int
    reply: dict[str, Any] | None = Field(description="the reply as queued (message model), when readable")


class DeadLetterPage(BaseModel):
    items: list[DeadLetterView]
    total: int


class Resent(BaseModel):
    id: str
    queued: bool


def _stream_id(value: str) -> str:
    """Redis refuses a stream id past 2^64 - 1 (and an exclusive start at it): its error made the store a 503."""
    if value != "-" and any(int(part) >= 2**64 - 1 for part in value.split("-")):
        raise ValueError("each part of a dead letter id is below 2^64 - 1")
    return value


LETTER = Path(pattern=r"^\d{1,20}-\d{1,20}$", description="dead letter id")


@router.get("/dead-letters", response_model=DeadLetterPage, summary="Replies the Cloud API never accepted")
async def list_dead_letters(
    dead: DeadLettersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str, Query(pattern=r"^(-|\d{1,20}-\d{1,20})$"), AfterValidator(_stream_id)] = "-",
) -> DeadLetterPage:
    letters = await dead.list(limit, after)
    return DeadLetterPage(items=[_view(letter) for letter in letters], total=await dead.count())


@router.post(
    "/dead-letters/{letter_id}/resend",
    response_model=Resent,
    summary="Queue a dead letter again for its person (in order after what is queued now)",
    responses={404: {"description": "no such dead letter"}},
)
async def resend_dead_letter(
    letter_id: Annotated[str, LETTER, AfterValidator(_stream_id)], dead: DeadLettersDep, inbox: InboxDep
) -> Resent:
    letter = await dead.get(letter_id)
    if letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such dead letter")
    try:
        reply = orjson.loads(letter.reply)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "dead letter unreadable: cannot be resent") from exc
    work = orjson.dumps({"work": f"resend:{letter.id}", "replies": [reply]})
    await inbox.append([NewEntry("r", letter.channel_id, work)])
    await dead.remove(letter.id)
    return Resent(id=letter.id, queued=True)


def _view(letter: DeadLetter) -> DeadLetterView:
    try:
        reply = orjson.loads(letter.reply).get("m")
    except (orjson.JSONDecodeError, AttributeError):
        reply = None
    return DeadLetterView(
        id=letter.id,
        channel_id=mask_phone(letter.channel_id),
        code=letter.code,
        reason=letter.reason,
        at_ms=letter.at_ms,
        reply=reply if isinstance(reply, dict) else None,
    )
