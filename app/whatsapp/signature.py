"""Webhook authenticity checks: the `X-Hub-Signature-256` HMAC and the GET handshake verify token.

The HMAC must be computed over the RAW request body: Meta signs its own serialisation (escaped unicode such
as `\\u00e4`, escaped slashes `\\/`), so re-serialising parsed JSON gives a different digest and a false 401.
All comparisons are constant-time so a forger cannot learn the digest byte by byte from response timing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

PREFIX = "sha256="
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class SignatureCheck(StrEnum):
    """Outcome of a signature check; `missing` and `invalid` are kept apart for logs and metrics."""

    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"


def sign(secret: bytes, body: bytes) -> str:
    """Return the header value Meta would send for `body`: `sha256=<lowercase hex HMAC-SHA256>`."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> SignatureCheck:
    """Check an `X-Hub-Signature-256` header against the raw body.

    An absent or blank header is `missing`; any other prefix, a digest that is not 64 hex digits, or a wrong
    digest is `invalid`. The format is validated before the compare because `compare_digest` raises on
    non-ASCII strings.
    """
    if header is None or not header.strip():
        return SignatureCheck.MISSING
    value = header.strip()
    if not value.startswith(PREFIX):
        return SignatureCheck.INVALID
    given = value[len(PREFIX) :]
    if _HEX64.fullmatch(given) is None:
        return SignatureCheck.INVALID
    expected = sign(secret, body)[len(PREFIX) :]
    if hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii")):
        return SignatureCheck.OK
    return SignatureCheck.INVALID


def verify_token_matches(expected: str, given: str | None) -> bool:
    """Constant-time check of `hub.verify_token` for the GET handshake.

    An empty configured token never matches, so a missing setting cannot verify an attacker's endpoint.
    """
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
