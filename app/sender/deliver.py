"""Delivering one person's reply outbox, oldest first, removing each reply once the Cloud API accepted it.

Runs on the person's worker after the commit, never on the webhook's path. The Cloud API client retries
131056, 130429 and transient errors with their back-off inside its budget; this person's next messages wait
meanwhile (their order matters), other people's do not. What is still refused after the budget, or refused at
once (131047, outside the 24-hour window), becomes a dead letter with its reason: never silently dropped.
"""

from __future__ import annotations

from app.logs import get_logger
from app.metrics import Metrics, known_code
from app.sender.dead import DeadLetters
from app.sender.replies import UnreadableReply, decode_reply
from app.state.redis_atomic import RedisAtomic
from app.whatsapp.messages import MarkRead
from app.whatsapp.outbound import Sender, SendResult

log = get_logger(__name__)


class ReplyDelivery:
    def __init__(self, redis_atomic: RedisAtomic, sender: Sender, dead: DeadLetters, metrics: Metrics) -> None:
        self.ra = redis_atomic
        self.sender = sender
        self.dead = dead
        self.metrics = metrics

    async def deliver(self, channel_id: str, replies: tuple[bytes, ...]) -> int:
        """Send `replies` (the outbox as the commit or begin read it); returns how many were accepted.

        Raises StateUnavailable when an ack cannot be written: the caller retries, and the retry re-reads the
        outbox, so a reply is at worst sent twice, never lost.
        """
        sent = 0
        for raw in replies:
            try:
                reply = decode_reply(raw)
            except UnreadableReply as exc:
                await self._bury(channel_id, raw, None, f"unreadable reply: {exc}")
                continue
            try:
                result = await self.sender.send(reply.to, reply.message)
            except Exception as exc:  # a sender bug must not lose the reply or stop the person's queue
                log.error("reply_send_crashed", error=type(exc).__name__)
                result = SendResult(ok=False, retryable=False)
                self.metrics.outbound.labels("crashed", "").inc()
                await self._bury(channel_id, raw, None, f"sender raised {type(exc).__name__}")
                continue
            code = known_code(result.error_code)
            self.metrics.outbound.labels("ok" if result.ok else "failed", code).inc()
            if result.ok:
                await self.ra.ack_reply(channel_id, raw)
                sent += 1
                continue
            reason = "retry budget spent" if result.retryable else "refused"
            await self._bury(channel_id, raw, result.error_code, f"{reason} after {result.attempts} attempt(s)")
        return sent

    async def mark_read(self, channel_id: str, message_id: str) -> None:
        """Blue ticks and the typing indicator while the step runs: through the same sender, never durable (a
        read receipt after a crash tells nobody anything) and never raising."""
        try:
            result = await self.sender.send(channel_id, MarkRead(message_id=message_id, typing=True))
        except Exception as exc:
            log.warning("mark_read_crashed", error=type(exc).__name__)
            return
        self.metrics.outbound.labels("read_ok" if result.ok else "read_failed", known_code(result.error_code)).inc()

    async def _bury(self, channel_id: str, raw: bytes, code: int | None, reason: str) -> None:
        """Dead letter first, then the ack: a crash between the two leaves a copy, never nothing."""
        letter = await self.dead.add(channel_id, raw, code, reason)
        await self.ra.ack_reply(channel_id, raw)
        self.metrics.dead_replies.labels(known_code(code)).inc()
        log.warning("reply_dead_lettered", code=code, reason=reason, letter=letter)
