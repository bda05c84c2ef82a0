"""What a channel id may be: a wa_id or a business-scoped user id, as it names the person's Redis keys (the hash
tag `{<channel>}`, app/state/keys.py). One definition for the webhook, the workers, the keys and the routes."""

from __future__ import annotations

import re

CHANNEL_ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,128}$"
CHANNEL_ID = re.compile(CHANNEL_ID_PATTERN)
