"""Between ConversationState and the two JSON documents stored in the channel's hash."""

from __future__ import annotations

from typing import Any

import orjson

from app.state.migrations import migrate
from app.state.models import REVEAL_SECRETS, ConversationState, FlowData

_CONTEXT = {REVEAL_SECRETS: True}


def encode(state: ConversationState) -> tuple[bytes, bytes]:
    """Return (core, flow): everything but flow_data, and flow_data alone."""
    core = state.model_dump_json(by_alias=True, exclude={"flow_data"}, context=_CONTEXT)
    return core.encode(), state.flow_data.model_dump_json().encode()


def encode_flow(flow: FlowData) -> bytes:
    return flow.model_dump_json().encode()


def decode(version: int, core: bytes, flow: bytes | None) -> ConversationState:
    """Rebuild the state; the hash's version counter is authoritative over the copy inside `_metadata`."""
    raw: dict[str, Any] = orjson.loads(core)
    raw["flow_data"] = orjson.loads(flow) if flow else {}
    raw = migrate(raw)
    raw.setdefault("_metadata", {})["version"] = version
    return ConversationState.model_validate(raw)
