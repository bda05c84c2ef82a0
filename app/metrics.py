"""Prometheus metrics (prometheus-client), one registry per app so tests and apps never share counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhook_requests = Counter("webhook_requests", "Webhook POSTs by outcome", ["outcome"], registry=r)
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

    def observe_credex(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.credex_calls.labels(endpoint, outcome).observe(seconds)

    def watch_state(self, counters: Callable[[], dict[str, int]]) -> None:
        """The state engine keeps plain counters (it may not import us); they are read at scrape time."""
        self.registry.register(_StateCollector(counters))


class _StateCollector(Collector):
    HELP: ClassVar[dict[str, str]] = {
        "lease_waits": "Backoff waits for a channel held by another worker",
        "busy_timeouts": "Messages that gave up waiting for a busy channel",
        "commit_conflicts": "Commits refused because the lease or version moved",
    }

    def __init__(self, counters: Callable[[], dict[str, int]]) -> None:
        self.counters = counters

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, value in self.counters().items():
            yield CounterMetricFamily(f"state_{name}", self.HELP.get(name, name), value=value)
