"""The SLO/SLI document of a product: each objective with its current status, attainment over the
rolling window, remaining error budget and recent measurements. A stable JSON shape (schema
``quanta.slo-document/v1``, documented in docs/reference/slo-document.md) for the catalog API,
the web UI and `quanta slo --format json`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quanta.catalog import Catalog, SliRecord
from quanta.quality.attainment import Attainment, per_build, time_weighted, time_weighted_freshness
from quanta.spec.base import parse_duration
from quanta.spec.index import address
from quanta.spec.product import DataProduct

SCHEMA = "quanta.slo-document/v1"
HISTORY = 50


def slo_document(catalog: Catalog, spec: DataProduct, now: datetime | None = None) -> dict[str, Any]:
    """The document of ``spec`` as measured in ``catalog`` at ``now``."""
    now = now or datetime.now(UTC)
    key = spec.key
    window = parse_duration(spec.slos.window)
    slis = catalog.slis.of(key)
    current = catalog.snapshots.current(key)
    published = [s.published_at for s in catalog.snapshots.list(key) if s.status == "published" and s.published_at]
    objectives = []
    for name, objective in spec.slos.declared().items():
        checks = [s for s in slis if s.check_id.split(":", 1)[0] == _CHECK_PREFIX.get(name, name)]
        if name == "freshness" and not getattr(objective, "timestamp", None):
            max_age = parse_duration(objective.max_age)  # type: ignore[attr-defined]
            attained = time_weighted_freshness(published, max_age, objective.target, window, now)
            age = (now - current.published_at).total_seconds() if current and current.published_at else None
            latest = (
                {
                    "status": "passed" if age is not None and age <= max_age.total_seconds() else "failed",
                    "observed": age,
                    "measuredAt": now.isoformat(),
                }
                if age is not None
                else None
            )
            kind = "time"
        elif name == "build_duration":
            steps = [s for s in catalog.runs.steps(product_key=key) if s.status in ("built", "unchanged")]
            limit = parse_duration(objective.max).total_seconds()  # type: ignore[attr-defined]
            attained = per_build([(s.started_at, s.duration_s <= limit) for s in steps], objective.target, window, now)
            latest = (
                {
                    "status": "passed" if steps[0].duration_s <= limit else "failed",
                    "observed": steps[0].duration_s,
                    "measuredAt": steps[0].started_at.isoformat(),
                }
                if steps
                else None
            )
            kind = "per-build"
        elif name in ("availability", "latency"):  # measured by the serving layer per interval and port:
            attained = _worst_port(checks, objective.target, window, now)  # each holds until the next
            latest = _latest_interval(checks)
            kind = "time"
        else:
            attained = per_build(_by_snapshot(checks), objective.target, window, now)
            latest = _latest(checks)
            kind = "per-build"
        objectives.append(
            {
                "name": name,
                "kind": kind,
                "objective": objective.model_dump(by_alias=True, mode="json", exclude_none=True),
                **_attainment(attained),
                "current": latest,
                "history": [_sli(s) for s in checks[-HISTORY:]],
            }
        )
    if spec.schedule:
        objectives.append(_on_schedule(catalog, key, spec.schedule, window, now))
    schema_checks = [s for s in slis if s.check_id.split(":", 1)[0] not in set(_CHECK_PREFIX.values())]
    schema_attainment = per_build(_by_snapshot(schema_checks), 1.0, window, now)
    return {
        "schema": SCHEMA,
        "product": spec.ref,
        "key": key,
        "address": address(spec),
        "generatedAt": now.isoformat(),
        "window": spec.slos.window,
        "currentSnapshot": (
            {
                "id": current.id,
                "publishedAt": current.published_at.isoformat() if current.published_at else None,
                "rows": current.rows,
            }
            if current
            else None
        ),
        "objectives": objectives,
        "schemaChecks": {
            **_attainment(schema_attainment),
            "latest": [_sli(s) for s in _latest_per_check(schema_checks)],
        },
    }


_CHECK_PREFIX = {
    "completeness": "completeness",
    "volume": "volume",
    "freshness": "freshness",
    "availability": "availability",
    "latency": "latency",
    "retention": "retention",
}


def _worst_port(checks: list[SliRecord], target: float, window: Any, now: datetime) -> Attainment:
    """Time-weighted availability of each port's series (``availability:<port>``); the worst counts."""
    ports: dict[str, list[tuple[datetime, bool]]] = {}
    for sli in checks:
        ports.setdefault(sli.check_id, []).append((sli.measured_at, sli.status == "passed"))
    measured = [time_weighted(series, target, window, now) for series in ports.values()]
    known = [a for a in measured if a.attainment is not None]
    if not known:
        return Attainment(None, target, None, 0)
    return min(known, key=lambda a: a.attainment or 0.0)


def _on_schedule(catalog: Catalog, key: str, schedule: str, window: Any, now: datetime) -> dict[str, Any]:
    """Freshness of the last successful build against the schedule: a build is due every
    scheduled interval; the time after a missed run counts against the objective."""
    from quanta.quality.consistency import schedule_interval

    interval = schedule_interval(schedule)
    builds = sorted(
        s.started_at for s in catalog.runs.steps(product_key=key) if s.status in ("built", "unchanged", "skipped")
    )
    attained = time_weighted_freshness(builds, interval, 0.99, window, now)
    last = builds[-1] if builds else None
    current = (
        {
            "status": "passed" if now - last <= interval else "failed",
            "observed": (now - last).total_seconds(),
            "measuredAt": now.isoformat(),
        }
        if last
        else None
    )
    return {
        "name": "schedule",
        "kind": "time",
        "objective": {"schedule": schedule, "maxGap": interval.total_seconds()},
        **_attainment(attained),
        "current": current,
        "history": [],
    }


def _by_snapshot(records: list[SliRecord]) -> list[tuple[datetime, bool]]:
    """One outcome per snapshot: met when none of its measurements failed or errored."""
    grouped: dict[str, tuple[datetime, bool]] = {}
    for record in records:
        key = record.snapshot_id or record.measured_at.isoformat()
        ok = record.status == "passed"
        moment, previous = grouped.get(key, (record.measured_at, True))
        grouped[key] = (moment, previous and ok)
    return list(grouped.values())


def _latest(records: list[SliRecord]) -> dict[str, Any] | None:
    if not records:
        return None
    last = records[-1]
    same = [r for r in records if r.snapshot_id == last.snapshot_id]
    status = (
        "passed" if all(r.status == "passed" for r in same) else next(r.status for r in same if r.status != "passed")
    )
    return {
        "status": status,
        "observed": last.observed,
        "measuredAt": last.measured_at.isoformat(),
        "snapshotId": last.snapshot_id,
    }


def _latest_interval(records: list[SliRecord]) -> dict[str, Any] | None:
    """The last interval's measurements (every port and percentile measured at that moment): failed
    if any failed, observed the worst (a failed one's, else the last)."""
    if not records:
        return None
    moment = records[-1].measured_at
    same = [r for r in records if r.measured_at == moment]
    worst = next((r for r in same if r.status != "passed"), same[-1])
    return {
        "status": worst.status,
        "observed": worst.observed,
        "measuredAt": moment.isoformat(),
        "check": worst.check_id,
        "snapshotId": None,
    }


def _latest_per_check(records: list[SliRecord]) -> list[SliRecord]:
    latest: dict[str, SliRecord] = {}
    for record in records:
        latest[record.check_id] = record
    return list(latest.values())


def _sli(record: SliRecord) -> dict[str, Any]:
    return {
        "check": record.check_id,
        "status": record.status,
        "observed": record.observed,
        "operator": record.operator,
        "limit": record.limit,
        "measuredAt": record.measured_at.isoformat(),
        "snapshotId": record.snapshot_id,
    }


def _attainment(result: Attainment) -> dict[str, Any]:
    return {
        "status": result.status,
        "attainment": result.attainment,
        "target": result.target,
        "budgetRemaining": result.budget_remaining,
        "samples": result.samples,
    }
