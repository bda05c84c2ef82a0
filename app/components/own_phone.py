"""The phone number of a person whose number WhatsApp hides (a username instead of it: no `wa_id`, a BSUID only).

credex-core knows members by phone number, so the bot asks for it the way the Cloud API allows: an interactive
`request_contact_info` message, whose *Share phone number* button (WhatsApp's own) sends back a contact card with
`origin: contact_request` holding the number WhatsApp has for the person. That number is theirs; a typed number, or
someone's contact card, could be anyone's and would open that person's account, so it is taken only where the
service allows it (development, for the sandbox's demo members). The number is remembered in the state (and beside
it, so a new session does not ask again) and used for every credex-core call from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import phonenumbers

from app.components.base import InputComponent, StepContext, notice
from app.components.phones import phone_handle
from app.state.results import ValidationResult
from app.whatsapp.inbound import InboundMessage
from app.whatsapp.messages import OutboundMessage, RequestContactInfo

ASK = (
    "To use VimbisoPay I need your phone number: credex knows its members by their number, and WhatsApp does not"
    " show me yours. Tap *Share phone number* below to send it."
)
ASK_TYPED = " Or type it with the country code, like *+263 77 123 4567*."
NOT_A_NUMBER = (
    "That is not a phone number I can read. Type it with the country code, like *+263 77 123 4567*, or as you"
    " dial it, like *077 123 4567*."
)
ONLY_SHARED = (
    "For your safety I can only use the number WhatsApp shares with me, since a typed number could be anyone's."
    " Tap *Share phone number* below."
)
THANKS = "✅ Thanks. I will use *{number}* for your credex account."
CONTACT_REQUEST = "contact_request"


def shared_own_number(message: InboundMessage | None) -> str | None:
    """The number on a card the person sent with WhatsApp's *Share phone number* (origin `contact_request`)."""
    for card in (message.raw.contacts or []) if message is not None and message.type == "contacts" else []:
        if not isinstance(card, dict) or card.get("origin") != CONTACT_REQUEST:
            continue
        for phone in card.get("phones") or []:
            found = phone.get("wa_id") or phone.get("phone") if isinstance(phone, dict) else None
            if isinstance(found, str) and found.strip():
                return found.strip()
    return None


def readable(digits: str) -> str:
    """'263770000001' → '+263 77 000 0001', as people write it."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse("+" + digits), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return "+" + digits


class OwnPhone(InputComponent):
    """Asks once for the number, then it is kept (`state.channel.phone`); the login after it uses it."""

    hint: ClassVar[str | None] = None
    takes_contact: ClassVar[bool] = True

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        return [RequestContactInfo(body=ASK + (ASK_TYPED if ctx.typed_phone else ""))]

    def help(self, ctx: StepContext) -> str:
        how = "Tap *Share phone number* under my message" + (", or type your number" if ctx.typed_phone else "")
        return f"{how}. I use it only to find your credex account; nothing else is done with it."

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        shared = shared_own_number(ctx.message)
        if shared is None and not ctx.typed_phone:
            return ValidationResult.failure(ONLY_SHARED)
        number = phone_handle(shared or text, ctx.phone_region)
        if number is None or not 8 <= len(number) <= 15 or not _valid(number):
            return ValidationResult.failure(NOT_A_NUMBER)
        return ValidationResult.success(number)

    async def receive(self, ctx: StepContext, text: str) -> ValidationResult:
        """No wrong answers are counted: without the number nothing else can be done, so "back to the menu"
        after three would be untrue. The reason and the question again, every time."""
        result = self.validate(ctx, text)
        if not result.valid:
            ctx.send(notice(f"⚠️ {result.error}"))
            return await self.enter(ctx)
        ctx.state.set_phone(str(result.value))
        ctx.send(notice(THANKS.format(number=readable(str(result.value)))))
        return result


def _valid(digits: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False
