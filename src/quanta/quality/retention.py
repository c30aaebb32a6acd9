"""Retention: how far back time travel reaches, what gc must keep for it, and its SLI.

A read "as of T" needs the snapshot that was current at T: the last one published at or before
T. So a retention period P is honoured when that snapshot for T = now - P is still there (or the
product is younger than P and its first snapshot is still there); ``minSnapshots`` asks for at
least that many published snapshots regardless of age.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from quanta.catalog import SliRecord, SnapshotRecord
from quanta.spec.base import parse_duration
from quanta.spec.slo import RetentionSlo

CHECK_ID = "retention"


def needed_for_retention(snapshots: Sequence[SnapshotRecord], objective: RetentionSlo, now: datetime) -> set[str]:
    """Ids of the published snapshots gc must keep so that ``objective`` stays met."""
    published = sorted(
        (s for s in snapshots if s.status == "published" and s.published_at),
        key=lambda s: s.published_at,  # type: ignore[arg-type,return-value]
    )
    keep: set[str] = set()
    if objective.period:
        horizon = now - parse_duration(objective.period)
        at_horizon = [s for s in published if s.published_at <= horizon]  # type: ignore[operator]
        keep |= {s.id for s in published if s.published_at > horizon}  # type: ignore[operator]
        if at_horizon:
            keep.add(at_horizon[-1].id)
    if objective.min_snapshots:
        keep |= {s.id for s in published[-objective.min_snapshots :]}
    return keep


def retention_sli(
    snapshots: Sequence[SnapshotRecord], first_published: datetime | None, objective: RetentionSlo, now: datetime
) -> SliRecord:
    """Observed: seconds of history time travel reaches now; limit: what the objective asks for,
    capped by the product's age. The count of kept snapshots is checked against ``minSnapshots``."""
    published = sorted(s.published_at for s in snapshots if s.status == "published" and s.published_at)
    reach = (now - published[0]).total_seconds() if published else 0.0
    age = (now - first_published).total_seconds() if first_published else 0.0
    wanted = min(parse_duration(objective.period).total_seconds(), age) if objective.period else 0.0
    problems = []
    if reach < wanted:
        problems.append(f"time travel reaches {_days(reach)} back, {_days(wanted)} wanted")
    if objective.min_snapshots and len(published) < objective.min_snapshots and first_published is not None:
        ever = len(published)  # fewer may exist yet: only a shortfall after deletions counts
        if published and published[0] > first_published:
            problems.append(f"{ever} snapshots kept, {objective.min_snapshots} wanted")
    return SliRecord(
        CHECK_ID,
        "failed" if problems else "passed",
        reach,
        ">=",
        wanted,
        False,
        now,
        "; ".join(problems) or f"{len(published)} snapshots reach {_days(reach)} back",
    )


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days"
