"""The one place that names a credex-core write for its `Idempotency-Key` header.

A key must be the same when the same confirmed write is attempted again (a redelivery, a retry) and different for
any other write, so it is derived from the channel, the operation, what anchors it (the confirmation's nonce, else
the inbound message id) and the write's own parameters. Hashed: fixed length, no phone number on the wire twice.
The durable intents of issue 9 will replace the anchor with the intent's operation id, here and nowhere else.
"""

from __future__ import annotations

import hashlib

KEY_PREFIX = "vp1-"
"""Versioned, so a change of derivation can never collide with keys already sent."""


def operation_key(channel_id: str, operation: str, anchor: str, *parts: str) -> str:
    """'vp1-<32 hex>' from channel, operation name (e.g. 'createCredex'), anchor and parameters."""
    material = "\x1f".join((channel_id, operation, anchor, *parts))
    return KEY_PREFIX + hashlib.sha256(material.encode()).hexdigest()[:32]
