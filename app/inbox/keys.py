"""Inbox key layout. Each partition's keys share the hash tag `{pN}`, so every script touches one slot.

A person always lands in the same partition (a stable hash of the channel id), so their updates keep the order
in which the webhook accepted them. Changing INBOX_PARTITIONS moves people between partitions: do it with the
inbox drained (README, "Operating").
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

GROUP = "workers"
MEMBERS = "inbox:members"
"""Sorted set of live service processes (score: heartbeat deadline in ms); its size sets each one's share."""


class PartitionKeys(NamedTuple):
    stream: str
    owner: str
    dead: str


def partition_of(channel_id: str, partitions: int) -> int:
    return zlib.crc32(channel_id.encode()) % partitions


def partition_keys(partition: int) -> PartitionKeys:
    tag = f"inbox:{{p{partition}}}"
    return PartitionKeys(stream=tag, owner=f"{tag}:owner", dead=f"{tag}:dead")
