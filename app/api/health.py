"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import StoreDep
from app.state.errors import StateError

router = APIRouter(tags=["operations"])


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Redis answers and the Lua scripts are loaded",
    response_model=None,
    responses={
        200: {"content": {"application/json": {"example": {"status": "ready"}}}},
        503: {
            "description": "The state store does not answer: take this instance out of rotation",
            "content": {"application/json": {"example": {"status": "unavailable", "reason": "store unreachable"}}},
        },
    },
)
async def ready(store: StoreDep) -> dict[str, str] | JSONResponse:
    try:
        if await store.redis_atomic.ready():
            return {"status": "ready"}
        await store.redis_atomic.load_scripts()
        return {"status": "ready"}
    except StateError as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
