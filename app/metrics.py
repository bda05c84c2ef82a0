"""Prometheus metrics (prometheus-client), one registry per app so tests and apps never share counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhook_requests = Counter("webhook_requests", "Webhook POSTs by outcome", ["outcome"], registry=r)
        self.messages = Counter("messages_handled", "Inbound messages handled, by type", ["type"], registry=r)
        self.duplicates = Counter("duplicates_dropped", "Inbound messages dropped as duplicates", registry=r)
        self.statuses = Counter("statuses", "Delivery statuses recorded, by status", ["status"], registry=r)
        self.status_failures = Counter(
            "status_failures", "Failed delivery statuses, by error code", ["code"], registry=r
        )
        self.flow_errors = Counter("flow_errors", "Steps that raised, by flow context", ["context"], registry=r)
        self.outbound = Counter(
            "outbound_sends", "Replies sent, by result and error code", ["result", "code"], registry=r
        )
        self.handle_seconds = Histogram("message_handle_seconds", "Time to handle one inbound message", registry=r)
