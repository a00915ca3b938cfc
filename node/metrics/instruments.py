"""The node's instruments, one registry per application.

Several nodes run in one test process (and the demo runs two in one), so nothing
here touches prometheus_client's global default registry: each app gets its own
``NodeMetrics``. Label values are bounded and impersonal by construction: a route's
name, a peer's host, an activity's type, an HTTP status.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from node.metrics.snapshot import SnapshotCollector

# Page and endpoint latency: a few milliseconds (static files) to seconds (a slow twin
# page under load); anything over ten seconds is an outage anyway.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A matching run: under a second for a small pair, minutes for two whole cities.
MATCHING_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class NodeMetrics:
    """What the process counts, plus the collector of the figures read when scraped."""

    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "zwilling_http_requests",
            "HTTP requests answered, by route name, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "zwilling_http_request_duration_seconds",
            "Time to answer an HTTP request, by route name (the twin page is route twin).",
            ["route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.inbox_activities = Counter(
            "zwilling_inbox_activities",
            "Activities peers posted to the inbox, by type and outcome "
            "(accepted, duplicate, refused with a reason class, applied, failed).",
            ["activity", "object", "outcome", "reason"],
            registry=registry,
        )
        self.delivery_attempts = Counter(
            "zwilling_delivery_attempts",
            "Attempts to deliver an activity to a peer's inbox, by peer, outcome "
            "(delivered, retry, give_up) and HTTP status (network_error without an answer).",
            ["peer", "outcome", "status"],
            registry=registry,
        )
        self.matching_duration = Histogram(
            "zwilling_matching_run_duration_seconds",
            "Duration of a successful matching run (full: every peer; partial: changed ones).",
            ["scope"],
            buckets=MATCHING_BUCKETS,
            registry=registry,
        )
        self.matching_last_success = Gauge(
            "zwilling_matching_last_success_timestamp_seconds",
            "When a matching run last completed in this process (unix time; 0: not yet).",
            registry=registry,
        )
        self.database = SnapshotCollector()
        registry.register(self.database)
