"""Prometheus metrics (prometheus-client).

One registry per app, so tests and apps never share counts. With several worker processes (`python -m app`
with WEB_CONCURRENCY > 1) prometheus-client's multiprocess mode is on: `app/__main__.py` points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before any worker starts, every process writes its values there,
and a scrape of any process adds them all up (`render`). Labels only ever take values from known sets.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

KNOWN_CODES = frozenset(
    {1, 2, 4, 100, 190, 368, 470, 80007, 130429, 130472, 131000, 131005, 131008, 131009, 131016, 131021, 131026}
    | {131031, 131042, 131045, 131047, 131048, 131049, 131051, 131052, 131053, 131056, 132000, 132001, 132005}
    | {132007, 132012, 132015, 132016, 133004, 133010, 135000}
)
"""Graph API error codes from PROTOCOL.md and Meta's list; anything else is counted as `other`."""
MESSAGE_TYPES = frozenset(
    {"text", "interactive", "button", "image", "audio", "video", "document", "sticker", "location", "contacts"}
    | {"reaction", "order", "system", "unsupported", "request_welcome", "unknown"}
)
STATE_EVENTS = frozenset({"lease_waits", "busy_timeouts", "commit_conflicts"})
STATUSES = frozenset({"sent", "delivered", "read", "failed", "played", "deleted", "warning"})


def known_code(code: int | None) -> str:
    if code is None:
        return ""
    return str(code) if code in KNOWN_CODES else "other"


def known(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhook_requests = Counter("webhook_requests", "Webhook POSTs by outcome", ["outcome"], registry=r)
        self.webhook_seconds = Histogram(
            "webhook_ack_seconds",
            "Time from a POST's first byte to its answer",
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.rejected_updates = Counter(
            "webhook_rejected_updates",
            "Malformed parts of signed bodies, acknowledged and skipped",
            ["part"],
            registry=r,
        )
        self.inbox_appended = Counter("inbox_appended", "Updates appended to the inbox, by kind", ["kind"], registry=r)
        self.inbox_reclaimed = Counter(
            "inbox_reclaimed", "Inbox entries taken over from a process that stopped", registry=r
        )
        self.inbox_dead = Counter("inbox_dead_letters", "Inbox entries given up after their attempts", registry=r)
        self.inbox_retries = Counter(
            "inbox_retries", "Inbox entries retried after a failure, by cause", ["cause"], registry=r
        )
        self.loop_lag = Histogram(
            "event_loop_lag_seconds",
            "How late the event loop woke a 5 ms sleep (the inbox gate's measure, INBOX_LAG_GATE_MS)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=r,
        )
        self.inbox_gate_waits = Counter(
            "inbox_gate_waits", "Entries that waited for the event loop to catch up before starting", registry=r
        )
        self.dead_replies = Counter("reply_dead_letters", "Replies dead-lettered, by error code", ["code"], registry=r)
        self.messages = Counter("messages_handled", "Inbound messages handled, by type", ["type"], registry=r)
        self.duplicates = Counter(
            "duplicates_dropped", "Inbound messages and statuses dropped as duplicates", registry=r
        )
        self.statuses = Counter("statuses", "Delivery statuses recorded, by status", ["status"], registry=r)
        self.status_failures = Counter(
            "status_failures", "Failed delivery statuses, by error code", ["code"], registry=r
        )
        self.flow_errors = Counter("flow_errors", "Steps that raised, by flow context", ["context"], registry=r)
        self.validation_failures = Counter(
            "validation_failures", "Wrong answers, by component", ["component"], registry=r
        )
        self.session_expiries = Counter("session_expiries", "Messages that found their session expired", registry=r)
        self.outbound = Counter(
            "outbound_sends", "Replies sent, by result and error code", ["result", "code"], registry=r
        )
        self.credex_calls = Histogram(
            "credex_call_seconds",
            "credex-core HTTP calls by endpoint and outcome (status or error)",
            ["endpoint", "outcome"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.handle_seconds = Histogram("message_handle_seconds", "Time to handle one inbound message", registry=r)
        self.state_events = Counter(
            "state_events", "State engine events: lease waits, busy timeouts, commit conflicts", ["event"], registry=r
        )
        for event in STATE_EVENTS:
            self.state_events.labels(event)

    def observe_credex(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.credex_calls.labels(endpoint, outcome).observe(seconds)

    def state_event(self, event: str) -> None:
        """Given to the state engine (which may not import us) as its event counter."""
        self.state_events.labels(known(event, STATE_EVENTS)).inc()

    def render(self) -> bytes:
        """This process's registry, or every process's values added up in multiprocess mode."""
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
