"""X-Hub-Signature-256 checks and the GET handshake token compare."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from app.whatsapp.signature import SignatureCheck, sign, verify_signature, verify_token_matches

VECTOR = "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
SECRET = b"app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_known_vector() -> None:
    assert sign(b"secret", b"test") == f"sha256={VECTOR}"
    assert verify_signature(b"secret", b"test", f"sha256={VECTOR}") is SignatureCheck.OK


def test_correct_signature_is_ok() -> None:
    assert verify_signature(SECRET, BODY, sign(SECRET, BODY)) == "ok"


def test_uppercase_hex_and_surrounding_space_are_accepted() -> None:
    header = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest().upper()
    assert verify_signature(SECRET, BODY, f" {header} ") is SignatureCheck.OK


@pytest.mark.parametrize(
    ("secret", "body"),
    [(b"other-secret", BODY), (SECRET, BODY + b" "), (SECRET, BODY.replace(b"[]", b"[{}]"))],
)
def test_wrong_secret_or_tampered_body_is_invalid(secret: bytes, body: bytes) -> None:
    assert verify_signature(secret, body, sign(SECRET, BODY)) is SignatureCheck.INVALID


@pytest.mark.parametrize("header", [None, "", "   "])
def test_absent_header_is_missing(header: str | None) -> None:
    assert verify_signature(SECRET, BODY, header) is SignatureCheck.MISSING


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + hashlib.sha1(BODY).hexdigest(),  # the wrong algorithm
        "sha256=zz",
        "sha256=",
        "sha256=" + "z" * 64,
        "sha256=" + VECTOR[:-2],  # too short
        "sha256=" + VECTOR + "00",  # too long
        VECTOR,  # no prefix
        "SHA256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest(),
        "sha256=" + "é" * 64,  # non-ASCII must not crash compare_digest
    ],
)
def test_malformed_header_is_invalid(header: str) -> None:
    assert verify_signature(SECRET, BODY, header) is SignatureCheck.INVALID


def test_signature_is_over_raw_bytes_not_reserialised_json() -> None:
    """Meta escapes non-ASCII and slashes; json.dumps of the parsed body produces different bytes."""
    raw = b'{"text":{"body":"K\\u00e4se"},"mime_type":"text\\/html"}'
    header = sign(SECRET, raw)
    parsed = json.loads(raw)
    assert parsed == {"text": {"body": "Käse"}, "mime_type": "text/html"}

    assert verify_signature(SECRET, raw, header) is SignatureCheck.OK
    for reserialised in (
        json.dumps(parsed).encode(),
        json.dumps(parsed, separators=(",", ":")).encode(),
        json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode(),
    ):
        assert reserialised != raw
        assert sign(SECRET, reserialised) != header
        assert verify_signature(SECRET, reserialised, header) is SignatureCheck.INVALID


def test_verify_token() -> None:
    assert verify_token_matches("tok-123", "tok-123") is True
    assert verify_token_matches("tok-123", "tok-124") is False
    assert verify_token_matches("tok-123", "tok-12") is False
    assert verify_token_matches("tok-123", None) is False
    assert verify_token_matches("", "") is False  # an unset token must never verify
    assert verify_token_matches("tök", "tök") is True
