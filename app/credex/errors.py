"""Typed failures of credex-core calls, so the bot can tell 'retry' from 'refused' from 'check your dashboard'."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SPACES = re.compile(r"\s+")


def trim_message(text: str, limit: int = 300) -> str:
    """Collapse whitespace and control characters and cap the length: server text goes into chat messages."""
    clean = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "…"


class CredexError(Exception):
    """Base of every credex-core client failure."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class CredexUnavailable(CredexError):
    """credex-core could not be reached, timed out on a read, or failed (5xx); nothing is known to have changed."""


class CredexWriteUnconfirmed(CredexError):
    """A write may or may not have been applied (timeout, dropped connection, 5xx): never retried automatically."""


class CredexUnauthorized(CredexError):
    """The JWT was refused (after the one re-login a read is allowed); the caller must log in again."""


class CredexInvalidRequest(CredexError, ValueError):
    """The request broke the contract before anything was sent (e.g. a malformed handle or a zero amount)."""

    def __init__(self, message: str, *, endpoint: str | None = None, field: str | None = None) -> None:
        super().__init__(trim_message(message), endpoint=endpoint)
        self.field = field


class CredexRejected(CredexError):
    """credex-core refused the request (4xx) with a business message that is safe to show once trimmed."""

    def __init__(self, status: int, message: str, code: str | None = None, *, endpoint: str | None = None) -> None:
        self.status = status
        self.message = trim_message(message) or f"credex-core refused the request (HTTP {status})"
        self.code = code
        super().__init__(self.message, endpoint=endpoint)


class CredexBadResponse(CredexError):
    """A response lacked what we need or was not JSON: a contract break, reported instead of a KeyError."""

    def __init__(self, problem: str, *, endpoint: str | None = None, status: int | None = None) -> None:
        super().__init__(f"bad credex-core response from {endpoint} (HTTP {status}): {problem}", endpoint=endpoint)
        self.problem = problem
        self.status = status
