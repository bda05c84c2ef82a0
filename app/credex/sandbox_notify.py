"""The sandbox tells the bot about a new offer the way credex-core does: `POST /notify` with the client API key.

credex-core calls the bot's `/notify` over HTTP when an offer is created for a member, so the member hears about it
without having to write first. The sandbox does the same, to the same route, through the same checks (the key, the
rate limits, the opt-out, the inbox), so what a person sees in development is what production will show.

The bot's app is handed over at wiring time (`app/credex/wiring.py`) and reached in-process over an ASGI
transport: no port to know, nothing on the network, and this module never imports the bot's code: it speaks HTTP
to it, as credex-core would. The offer's answer never waits for the notice and never fails because of it: the
POST runs as its own task after the answer, and a failure is one log line.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from starlette.types import ASGIApp

from app.credex.sandbox_ledger import Credex, Ledger
from app.credex.sandbox_support import money
from app.logs import get_logger

log = get_logger(__name__)

NOTIFY_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class OfferNotice:
    """The body of `POST /notify`, in credex-core's field names."""

    phone: str
    member_name: str
    message: str

    def json(self) -> dict[str, str]:
        return {"phoneNumber": self.phone, "memberName": self.member_name, "message": self.message}


def offer_notice(ledger: Ledger, credex: Credex) -> OfferNotice | None:
    """Who hears about a new offer (the receiving account's *send offers to* member) and what they read; None
    when that is the member who made it (an offer between their own accounts)."""
    issuer = ledger.accounts[credex.issuer_account_id]
    receiver = ledger.accounts[credex.receiver_account_id]
    member = ledger.members.get(receiver.send_offers_to) or ledger.members[receiver.owner_id]
    if member.member_id == issuer.owner_id:
        return None
    who = ledger.members[issuer.owner_id].name if issuer.account_type == "PERSONAL" else issuer.name
    kind = "secured" if credex.secured else "unsecured"
    if credex.due_date is not None:
        kind += f", due {credex.due_date.day} {credex.due_date:%b}"
    to = "you" if receiver.account_type == "PERSONAL" else receiver.name
    message = f"{who} offered {to} {money(credex.amount, credex.denomination)} {kind}. Tap View offers to answer."
    return OfferNotice(member.phone, member.name, message)


class Notifier:
    """Posts notices to the bot's `/notify`, each in a task of its own; `drain()` waits for those in flight."""

    def __init__(self, app: ASGIApp, api_key: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_key = api_key
        self.transport: httpx.AsyncBaseTransport = transport or httpx.ASGITransport(app=app)
        self._tasks: set[asyncio.Task[None]] = set()

    def offer_created(self, ledger: Ledger, credex_id: str) -> None:
        """Called once the offer is in the ledger; returns at once (the POST happens after the answer)."""
        credex = ledger.credexes.get(credex_id)
        notice = offer_notice(ledger, credex) if credex is not None else None
        if notice is None:
            return
        task = asyncio.get_running_loop().create_task(self._post(notice))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, notice: OfferNotice) -> None:
        try:
            async with httpx.AsyncClient(
                transport=self.transport, base_url="http://vimbiso-bot", timeout=NOTIFY_TIMEOUT_S
            ) as client:
                response = await client.post("/notify", json=notice.json(), headers={"x-client-api-key": self.api_key})
        except Exception as exc:  # never the offer's problem: one line, no traceback, no phone or text
            log.warning("sandbox_notify_failed", error=type(exc).__name__)
            return
        if response.status_code != 202:
            log.warning("sandbox_notify_refused", status=response.status_code)
            return
        log.info("sandbox_notify_sent", status=response.json().get("status"))

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, within: float = 10.0) -> None:
        """Wait for the notices in flight (tests, and shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
