"""The conversation state of one channel, as pydantic models (the seed's "State Structure").

Stored in Redis as two JSON documents (see `app/state/codec.py`): `flow_data` apart from the rest, so that
clearing a flow is one small Lua script that never has to re-encode the member's data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, SerializationInfo, field_serializer

from app.channel_ids import CHANNEL_ID_PATTERN

SCHEMA_VERSION = 2
"""Bump when the stored shape changes, and add a step to `app/state/migrations.py`."""

REVEAL_SECRETS = "reveal_secrets"
"""Serialization context flag: only the codec writing to Redis sets it; every other dump masks secrets."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class Channel(_Model):
    type: Literal["whatsapp"] = "whatsapp"
    identifier: str = Field(min_length=1, max_length=128, pattern=CHANNEL_ID_PATTERN)
    phone: str | None = Field(default=None, pattern=r"^[0-9]{8,15}$")
    """The phone number of a person whose identifier is not one (a BSUID: their number is hidden behind a
    username), once they shared it; credex-core knows members by phone. None when the identifier is the number."""


class LastAttempt(_Model):
    component: str = ""
    value: str | None = Field(default=None, max_length=4096)
    error: str | None = None
    at: datetime = Field(default_factory=utcnow)


class FlowValidation(_Model):
    in_progress: bool = False
    attempts: int = Field(0, ge=0)
    last_attempt: LastAttempt | None = None


class FlowData(_Model):
    context: str = Field("", max_length=64)
    component: str = Field("", max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)
    validation: FlowValidation = Field(default_factory=FlowValidation)


class Auth(_Model):
    """The credex-core JWT: lives in state only, never in logs or admin views."""

    token: SecretStr | None = None
    issued_at: datetime | None = None

    @field_serializer("token")
    def _token(self, token: SecretStr | None, info: SerializationInfo) -> str | None:
        if token is None:
            return None
        context = info.context or {}
        return token.get_secret_value() if context.get(REVEAL_SECRETS) else "**********"


class Member(_Model):
    member_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    member_handle: str = ""
    member_tier: int = Field(1, ge=0, le=10)
    default_denom: str = "USD"
    remaining_available_usd: Decimal | None = None


class Account(_Model):
    account_id: str
    account_name: str = ""
    account_handle: str = ""
    account_type: str = "PERSONAL"
    is_owned: bool = True
    data: dict[str, Any] = Field(default_factory=dict)


class Dashboard(_Model):
    accounts: list[Account] = Field(default_factory=list)
    loaded_at: datetime | None = None


class Metadata(_Model):
    initialized_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(0, ge=0)
    schema_version: int = SCHEMA_VERSION


class ValidationState(_Model):
    """State-wide validation bookkeeping: attempts per component and the last error recorded."""

    in_progress: bool = False
    attempts: dict[str, int] = Field(default_factory=dict)
    last_attempt: LastAttempt | None = None
    error: str | None = None


class ConversationState(_Model):
    channel: Channel
    flow_data: FlowData = Field(default_factory=FlowData)
    member: Member = Field(default_factory=Member)
    auth: Auth = Field(default_factory=Auth)
    dashboard: Dashboard = Field(default_factory=Dashboard)
    active_account_id: str | None = None
    opted_out_at: datetime | None = None
    """When the person wrote *stop* (None: notifications allowed). Mirrors the durable opt-out record, which
    outlives this state's TTL; kept here so a live session knows without another Redis call."""
    metadata: Metadata = Field(default_factory=Metadata, alias="_metadata")
    validation: ValidationState = Field(default_factory=ValidationState, alias="_validation")

    @classmethod
    def fresh(cls, channel_id: str) -> ConversationState:
        return cls(channel=Channel(identifier=channel_id))
