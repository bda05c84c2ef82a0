"""The message templates approved in WhatsApp Manager, as the person reads them.

Meta stores a template's text; we send only its name, language and parameters. The texts are kept here, once, so
the development outbox and the simulator can show a template as it arrives on the phone, and a test can hold the
README's approval instructions to the same words. A quick-reply button's title is fixed at approval; its payload
is chosen per send and comes back in the tap (`button.payload`), which is how the bot knows what was tapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True, slots=True)
class ApprovedTemplate:
    name: str
    language: str
    body: str
    """The body as approved, with `{{1}}`, `{{2}}`... for the body parameters."""
    quick_replies: tuple[str, ...] = ()
    """The quick-reply buttons' titles, in order (index 0, 1...)."""

    def render(self, parameters: tuple[str, ...] | list[str]) -> str:
        """The body as the person reads it; a missing parameter stays visible as its placeholder."""

        def fill(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            return parameters[index] if 0 <= index < len(parameters) else match.group(0)

        return _PLACEHOLDER.sub(fill, self.body)


CREDEX_NOTIFICATION = ApprovedTemplate(
    name="credex_notification",
    language="en",
    body="Hi {{1}}, here is an update from your credex account:\n\n{{2}}\n\nReply menu to see your dashboard.",
    quick_replies=("View offers",),
)

VIEW_OFFERS_PAYLOAD = "view_offers"
"""The payload sent with the notification's *View offers* button: a tap opens the member's pending offers."""

APPROVED: dict[str, ApprovedTemplate] = {t.name: t for t in (CREDEX_NOTIFICATION,)}
