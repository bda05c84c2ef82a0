"""credex-core integration: the typed async client, its errors, and a sandbox of the service for dev and tests."""

from app.credex.client import CredexClient
from app.credex.client_base import CredexAuth
from app.credex.errors import (
    CredexBadResponse,
    CredexError,
    CredexInvalidRequest,
    CredexRejected,
    CredexUnauthorized,
    CredexUnavailable,
    CredexWriteUnconfirmed,
)

__all__ = [
    "CredexAuth",
    "CredexBadResponse",
    "CredexClient",
    "CredexError",
    "CredexInvalidRequest",
    "CredexRejected",
    "CredexUnauthorized",
    "CredexUnavailable",
    "CredexWriteUnconfirmed",
]
