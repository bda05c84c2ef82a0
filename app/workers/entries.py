"""An inbox entry as a worker sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    kind: str
    channel_id: str
    data: bytes

    @classmethod
    def from_stream(cls, entry_id: bytes | str, fields: dict[bytes, bytes]) -> Entry:
        return cls(
            id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
            kind=fields.get(b"k", b"").decode(errors="replace"),
            channel_id=fields.get(b"c", b"").decode(errors="replace"),
            data=fields.get(b"d", b""),
        )


class PoisonEntry(ValueError):
    """An entry that can never be handled (it does not parse): dead-lettered at once, not retried."""
