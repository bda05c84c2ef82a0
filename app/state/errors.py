"""Typed failures of the state engine, so callers can tell 'retry later' from 'refused'."""

from __future__ import annotations


class StateError(Exception):
    """Base of every state engine failure."""


class StateUnavailable(StateError):
    """The store cannot be reached or timed out: the webhook answers 503 so Meta retries."""


class ChannelBusy(StateError):
    """Another worker held the channel for longer than the bounded wait."""

    def __init__(self, channel_id: str, waited_s: float) -> None:
        super().__init__(f"channel busy after waiting {waited_s:.2f}s")
        self.channel_id = channel_id
        self.waited_s = waited_s


class CommitRefused(StateError):
    """The commit wrote nothing: the lease was lost or the version moved under us."""

    def __init__(self, reason: str, current_version: int | None = None) -> None:
        super().__init__(f"commit refused: {reason}")
        self.reason = reason
        self.current_version = current_version


class StateValidationError(StateError):
    """A proposed state broke a rule; nothing was written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid state: " + "; ".join(errors))
        self.errors = errors


class CorruptState(StateError):
    """What Redis holds for a channel cannot be read as state (not JSON, newer schema, invalid)."""
