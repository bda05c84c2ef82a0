"""POST /notify: credex-core asks the bot to tell a member something (filled in by the notify work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["credex-core"])
