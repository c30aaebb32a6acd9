"""Port SLIs as Prometheus metrics: requests, errors and a latency histogram per product and port
(one registry per app, so several apps in one process never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServerMetrics:
    """The server's counters and histogram."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("product", "port")
        self.requests = Counter(
            "quanta_requests",
            "Requests answered, by product, port and status.",
            (*labels, "status"),
            registry=self.registry,
        )
        self.errors = Counter(
            "quanta_request_errors",
            "Requests answered with a server error (5xx), by product and port.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "quanta_request_duration_seconds",
            "Time to answer a request, to its last byte.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, product: str, port: str, status: int, seconds: float) -> None:
        self.requests.labels(product, port, str(status)).inc()
        if status >= 500:
            self.errors.labels(product, port).inc()
        self.latency.labels(product, port).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
