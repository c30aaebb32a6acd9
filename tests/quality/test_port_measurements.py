"""Port SLIs from a serving interval: availability as the share of requests without a server
error, latency percentiles estimated from the histogram, only for the ports an objective names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quanta.quality.ports import PortWindow, port_measurements, quantile
from quanta.spec.slo import AvailabilitySlo, LatencySlo, Slos

BOUNDS = (0.01, 0.1, 1.0)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Spec:
    """What port_measurements reads of a product: its SLOs."""

    def __init__(self, slos: Slos) -> None:
        self.slos = slos


def _window(*observations: tuple[float, bool]) -> PortWindow:
    window = PortWindow(BOUNDS)
    for seconds, error in observations:
        window.observe(seconds, error)
    return window


def test_the_histogram_counts_each_request_in_its_bucket() -> None:
    window = _window((0.005, False), (0.01, False), (0.05, True), (3.0, False))
    assert window.counts == [2, 1, 0, 1] and window.requests == 4 and window.errors == 1


@pytest.mark.parametrize(
    ("counts", "q", "expected"),
    [
        ([10, 0, 0, 0], 0.5, 0.005),  # inside the first bucket, from 0
        ([0, 10, 0, 0], 0.5, 0.055),
        ([5, 5, 0, 0], 0.5, 0.01),
        ([0, 0, 0, 4], 0.99, 1.0),  # beyond the largest bound: that bound
        ([0, 0, 0, 0], 0.5, None),
    ],
)
def test_quantiles_interpolate_within_a_bucket(counts: list[int], q: float, expected: float | None) -> None:
    found = quantile(BOUNDS, counts, q)
    assert found == pytest.approx(expected) if expected is not None else found is None


def test_availability_and_latency_of_the_ports_the_objectives_name() -> None:
    slos = Slos(
        availability=AvailabilitySlo(ports=["api", "files"], target=0.9),
        latency=LatencySlo(ports=["api"], p50="20ms", p99="50ms"),
    )
    fast = _window(*[(0.005, False)] * 19, (0.005, True))  # 95% without a server error
    measured = {m.check_id: m for m in port_measurements(Spec(slos), "api", fast, NOW)}  # type: ignore[arg-type]
    assert set(measured) == {"availability:api", "latency:api:p50", "latency:api:p99"}
    assert measured["availability:api"].observed == pytest.approx(0.95)
    assert measured["availability:api"].status == "passed" and measured["availability:api"].limit == 0.9
    assert measured["latency:api:p99"].status == "passed" and measured["latency:api:p99"].limit == 0.05
    assert measured["latency:api:p50"].message == "20 requests, 1 server errors"
    slow = _window(*[(0.5, True)] * 3)
    slow_api = {m.check_id: m.status for m in port_measurements(Spec(slos), "api", slow, NOW)}  # type: ignore[arg-type]
    assert slow_api == {"availability:api": "failed", "latency:api:p50": "failed", "latency:api:p99": "failed"}
    files = port_measurements(Spec(slos), "files", slow, NOW)  # type: ignore[arg-type]
    assert [m.check_id for m in files] == ["availability:files"]  # no latency objective on files


def test_nothing_without_traffic_or_an_objective() -> None:
    slos = Slos(availability=AvailabilitySlo(ports=["api"], target=0.9))
    assert port_measurements(Spec(slos), "api", PortWindow(BOUNDS), NOW) == []  # type: ignore[arg-type]
    assert port_measurements(Spec(slos), "other", _window((0.1, False)), NOW) == []  # type: ignore[arg-type]
    assert port_measurements(Spec(Slos()), "api", _window((0.1, False)), NOW) == []  # type: ignore[arg-type]
