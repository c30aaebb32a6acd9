"""Attainment and error-budget arithmetic over synthetic histories with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quanta.quality.attainment import per_build, time_weighted, time_weighted_freshness

NOW = datetime(2026, 11, 29, tzinfo=UTC)
WINDOW = timedelta(days=28)


def test_per_build_attainment_and_budget() -> None:
    history = [(NOW - timedelta(days=d), d % 10 != 0) for d in range(1, 41)]  # 40 builds, one a day
    # in the window: days 1..28 → 28 builds, failures on days 10 and 20 → 26/28 good
    result = per_build(history, target=0.9, window=WINDOW, now=NOW)
    assert result.samples == 28
    assert result.attainment == pytest.approx(26 / 28)
    assert result.budget_remaining == pytest.approx(1 - (2 / 28) / 0.1)
    assert result.status == "met"


def test_per_build_budget_exhausted() -> None:
    history = [(NOW - timedelta(hours=h), h % 2 == 0) for h in range(1, 11)]  # half fail
    result = per_build(history, target=0.95, window=WINDOW, now=NOW)
    assert result.attainment == 0.5 and result.budget_remaining == pytest.approx(1 - 0.5 / 0.05)
    assert result.status == "budget exhausted"


def test_time_weighted_freshness_known_answer() -> None:
    # published at the window start and every 7 days; fresh for 5 days each time → 2 stale days per week
    published = [NOW - WINDOW + timedelta(days=7 * i) for i in range(4)]
    result = time_weighted_freshness(published, timedelta(days=5), target=0.5, window=WINDOW, now=NOW)
    assert result.attainment == pytest.approx(20 / 28)
    assert result.budget_remaining == pytest.approx(1 - (8 / 28) / 0.5)


def test_a_young_product_is_judged_over_its_life() -> None:
    published = [NOW - timedelta(days=14)]  # fresh for 4 days, then stale for 10
    result = time_weighted_freshness(published, timedelta(days=4), target=0.5, window=WINDOW, now=NOW)
    assert result.attainment == pytest.approx(4 / 14)
    assert result.status == "budget exhausted"


def test_time_weighted_series_known_answer() -> None:
    # up before the window, down for 1 hour of the last 8, then up again: 7/8 of the window
    probes = [(NOW - timedelta(hours=10), True), (NOW - timedelta(hours=6), False), (NOW - timedelta(hours=5), True)]
    result = time_weighted(probes, target=0.9, window=timedelta(hours=8), now=NOW)
    assert result.attainment == pytest.approx(7 / 8)
    assert result.budget_remaining == pytest.approx(1 - (1 / 8) / 0.1)
    assert result.samples == 2  # the two probes inside the window
    # unevenly spaced probes weigh by time, not by count: down for 6 of the last 8 hours
    uneven = [
        (NOW - timedelta(hours=8), True),
        (NOW - timedelta(hours=6), False),
        *[(NOW - timedelta(minutes=m), False) for m in (30, 20, 10)],
    ]
    weighted = time_weighted(uneven, target=0.9, window=timedelta(hours=8), now=NOW)
    assert weighted.attainment == pytest.approx(2 / 8)
    assert per_build(uneven, 0.9, timedelta(hours=8), NOW).attainment == pytest.approx(1 / 5)


def test_no_data() -> None:
    assert time_weighted([], 0.9, WINDOW, NOW).status == "no data"
    assert per_build([], 0.99, WINDOW, NOW).status == "no data"
    assert time_weighted_freshness([], timedelta(days=1), 0.99, WINDOW, NOW).status == "no data"


def test_consumer_freshness_must_allow_for_inputs_and_schedule(mesh_dir) -> None:  # type: ignore[no-untyped-def]
    from quanta.design.rules import design_rules
    from quanta.project import Mesh

    report = Mesh.validate(mesh_dir)
    assert report.source is not None
    assert [d for d in design_rules().run(report.source) if d.code == "freshness-unachievable"] == []
    revenue = mesh_dir / "products/sales/daily-revenue/dataproduct.yaml"
    revenue.write_text(revenue.read_text().replace("freshness: {maxAge: 2d}", "freshness: {maxAge: 12h}"))
    report = Mesh.validate(mesh_dir)
    assert report.source is not None
    (found,) = [d for d in design_rules().run(report.source) if d.code == "freshness-unachievable"]
    assert "input sales.orders may be 1d old" in found.message and "every 1d" in found.message
    lines = revenue.read_text().splitlines()
    assert found.location.line == next(i for i, line in enumerate(lines, 1) if "maxAge: 12h" in line)
