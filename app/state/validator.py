"""StateValidator: the rules a state must keep before it may be written, beyond its pydantic shape."""

from __future__ import annotations

from app.state.models import ConversationState

MAX_ENCODED_BYTES = 256 * 1024
"""A conversation state is small; anything larger is a bug (a list that keeps growing), not a need."""

MAX_ATTEMPTS = 1000


class StateValidator:
    def validate(self, state: ConversationState, channel_id: str) -> list[str]:
        """Return the broken rules, empty when the state may be committed."""
        errors: list[str] = []
        if state.channel.identifier != channel_id:
            errors.append("channel.identifier must be the session's channel")
        flow = state.flow_data
        if flow.component and not flow.context:
            errors.append("flow_data.component needs a flow_data.context")
        if flow.validation.attempts > MAX_ATTEMPTS:
            errors.append(f"flow_data.validation.attempts above {MAX_ATTEMPTS}")
        if state.auth.token is not None and not state.member.member_id:
            errors.append("auth.token without member.member_id")
        accounts = {a.account_id for a in state.dashboard.accounts}
        if state.active_account_id and accounts and state.active_account_id not in accounts:
            errors.append("active_account_id is not one of the dashboard's accounts")
        if state.metadata.updated_at < state.metadata.initialized_at:
            errors.append("_metadata.updated_at before initialized_at")
        return errors

    def validate_size(self, core: bytes, flow: bytes) -> list[str]:
        size = len(core) + len(flow)
        if size > MAX_ENCODED_BYTES:
            return [f"encoded state is {size} bytes, above {MAX_ENCODED_BYTES}"]
        return []
