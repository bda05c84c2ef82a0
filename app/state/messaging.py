"""The replies a session queues; the engine sends them only after the state commit, in order."""

from __future__ import annotations

from typing import Any


class MessageQueue:
    """Held by the StateManager as `messaging`: components queue here, never send directly."""

    def __init__(self) -> None:
        self._pending: list[Any] = []

    def send(self, message: Any) -> None:
        self._pending.append(message)

    def pending(self) -> list[Any]:
        """A copy of what is queued so far (the runner reads which buttons a turn put on screen)."""
        return list(self._pending)

    def drain(self) -> list[Any]:
        pending, self._pending = self._pending, []
        return pending

    def clear(self) -> None:
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._pending)
