"""Port SLIs: what a serving process measured on one port over an interval — requests, server
errors and a latency histogram — as measurements of the product's ``availability`` and
``latency`` objectives, for the SLI store.

An interval with traffic gives ``availability:<port>`` (the share of requests answered without a
server error, against the objective's target) and ``latency:<port>:<p>`` for each percentile the
objective bounds (estimated from the histogram as Prometheus' ``histogram_quantile`` does). Each
holds until the next measurement of its series (see :func:`quanta.quality.attainment.time_weighted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from quanta.catalog import SliRecord
from quanta.spec.base import parse_duration
from quanta.spec.product import DataProduct

PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


@dataclass
class PortWindow:
    """One port's traffic over an interval: counts per latency bucket (the last is beyond the
    largest bound)."""

    bounds: tuple[float, ...]
    requests: int = 0
    errors: int = 0
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, seconds: float, error: bool) -> None:
        self.requests += 1
        self.errors += error
        for index, bound in enumerate(self.bounds):
            if seconds <= bound:
                self.counts[index] += 1
                return
        self.counts[-1] += 1


def quantile(bounds: Sequence[float], counts: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile of a histogram, interpolated linearly inside its bucket (the first
    bucket from 0); a quantile beyond the largest bound is that bound. None without observations."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index == len(bounds):
                return bounds[-1]
            low = bounds[index - 1] if index > 0 else 0.0
            return low + (bounds[index] - low) * (rank - seen) / count
        seen += count
    return bounds[-1]


def port_measurements(spec: DataProduct, port: str, window: PortWindow, measured_at: datetime) -> list[SliRecord]:
    """The measurements of ``spec``'s availability and latency objectives that cover ``port`` (none
    when the interval had no request or no objective names the port)."""
    if window.requests == 0:
        return []
    measured: list[SliRecord] = []
    traffic = f"{window.requests} requests, {window.errors} server errors"
    availability = spec.slos.availability
    if availability is not None and port in availability.ports:
        ratio = 1 - window.errors / window.requests
        status = "passed" if ratio >= availability.target else "failed"
        measured.append(
            SliRecord(f"availability:{port}", status, ratio, ">=", availability.target, False, measured_at, traffic)
        )
    latency = spec.slos.latency
    if latency is not None and port in latency.ports:
        for name, q in PERCENTILES.items():
            bound = getattr(latency, name)
            if bound is None:
                continue
            limit = parse_duration(bound).total_seconds()
            observed = quantile(window.bounds, window.counts, q)
            status = "passed" if observed is not None and observed <= limit else "failed"
            measured.append(
                SliRecord(f"latency:{port}:{name}", status, observed, "<=", limit, False, measured_at, traffic)
            )
    return measured
