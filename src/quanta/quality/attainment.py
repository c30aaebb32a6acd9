"""Attainment and error budgets over a rolling window: per build for per-snapshot objectives,
time-weighted for time-based ones (freshness, availability)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Attainment:
    """How well an objective was met in a window."""

    attainment: float | None  # share of builds or of time the objective was met (None: no data)
    target: float
    budget_remaining: float | None  # 1.0 = untouched, 0 = spent, negative = overspent
    samples: int

    @property
    def status(self) -> str:
        if self.attainment is None:
            return "no data"
        if self.budget_remaining is not None and self.budget_remaining < 0:
            return "budget exhausted"
        return "met" if self.attainment >= self.target else "at risk"


def _budget(bad_share: float, target: float) -> float:
    allowed = 1.0 - target
    if allowed <= 0:
        return 1.0 if bad_share == 0 else -1.0
    return 1.0 - bad_share / allowed


def per_build(outcomes: Sequence[tuple[datetime, bool]], target: float, window: timedelta, now: datetime) -> Attainment:
    """Share of builds in the window whose measurement met the objective."""
    inside = [ok for moment, ok in outcomes if now - window <= moment <= now]
    if not inside:
        return Attainment(None, target, None, 0)
    good = sum(inside) / len(inside)
    return Attainment(good, target, _budget(1 - good, target), len(inside))


def time_weighted(
    samples: Sequence[tuple[datetime, bool]], target: float, window: timedelta, now: datetime
) -> Attainment:
    """Share of the window during which the objective held, for a series of measurements such as
    availability probes: each measurement's state lasts until the next one (the last until now).
    The window starts at the latest of its nominal start and the first measurement."""
    ordered = sorted((moment, ok) for moment, ok in samples if moment <= now)
    if not ordered:
        return Attainment(None, target, None, 0)
    start = max(now - window, ordered[0][0])
    if start >= now:
        return Attainment(None, target, None, 0)
    earlier = [ok for moment, ok in ordered if moment <= start]
    state, cursor = earlier[-1], start
    bad = timedelta(0)
    for moment, ok in [*((m, o) for m, o in ordered if m > start), (now, True)]:
        if not state:
            bad += moment - cursor
        cursor, state = moment, ok
    share = bad / (now - start)
    inside = sum(1 for moment, _ in ordered if moment >= start)
    return Attainment(1 - share, target, _budget(share, target), inside)


def time_weighted_freshness(
    published: Sequence[datetime], max_age: timedelta, target: float, window: timedelta, now: datetime
) -> Attainment:
    """Share of the window during which the current data was at most ``max_age`` old.

    Data published at ``p`` is fresh until ``p + max_age``; it stays current until the next
    publication. A product younger than the window is judged over its life (from its first
    publication), not penalised for the time before it existed.
    """
    moments = sorted(p for p in published if p <= now)
    if not moments:
        return Attainment(None, target, None, 0)
    start = max(now - window, moments[0])
    if start >= now:
        return Attainment(None, target, None, len(moments))
    stale = timedelta(0)
    earlier = [p for p in moments if p <= start]
    current = earlier[-1] if earlier else None
    cursor = start
    for moment in [p for p in moments if p > start] + [now]:
        stale += _stale_between(current, max_age, cursor, moment)
        cursor, current = moment, moment
    share = stale / (now - start)
    return Attainment(1 - share, target, _budget(share, target), len(moments))


def _stale_between(published: datetime | None, max_age: timedelta, begin: datetime, end: datetime) -> timedelta:
    if end <= begin:
        return timedelta(0)
    if published is None:
        return end - begin
    fresh_until = published + max_age
    return max(timedelta(0), end - max(begin, fresh_until))
