"""EchoRunner: one text reply per message and a counter in flow data.

Used by the webhook benchmark and the webhook tests, where the effect of each message must be countable.
"""

from __future__ import annotations

from app.state.manager import StateManager
from app.whatsapp.inbound import InboundMessage
from app.whatsapp.messages import Text


class EchoRunner:
    async def run(self, message: InboundMessage, state: StateManager) -> None:
        count = int(state.get_flow_state().data.get("count", 0)) + 1
        result = state.update_state({"flow_data": {"context": "echo", "component": "echo", "data": {"count": count}}})
        if not result.valid:
            raise RuntimeError(result.error)
        state.messaging.send(Text.safe(f"#{count}: {message.input_text}"))
