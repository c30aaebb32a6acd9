"""Mesh-wide SLO consistency: a consumer cannot be fresher than its inputs allow."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from quanta.rules.base import Rule, Violation, violation
from quanta.spec.base import parse_duration
from quanta.spec.codes import Code
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource


def schedule_interval(schedule: str | None) -> timedelta:
    """The longest gap between two runs of a cron schedule (zero without one)."""
    if schedule is None:
        return timedelta(0)
    from croniter import croniter

    runs = croniter(schedule, datetime(2026, 1, 5, tzinfo=UTC))  # a Monday; weekly and monthly gaps show
    times = [runs.get_next(datetime) for _ in range(40)]
    return max(b - a for a, b in itertools.pairwise(times))


class FreshnessIsAchievable(Rule):
    name = "freshness-is-achievable"
    description = "A consumer's freshness SLO allows for its inputs' freshness plus its own schedule."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        index = ProductIndex.of(mesh)
        for consumer in mesh.products:
            own = consumer.spec.slos.freshness
            if own is None:
                continue
            needed = parse_duration(own.max_age)
            interval = schedule_interval(consumer.spec.schedule)
            for spec_input in consumer.spec.inputs:
                if spec_input.type != "product":
                    continue
                upstream = index.resolve(spec_input.options.product, spec_input.options.major)
                if upstream is None or upstream.spec.slos.freshness is None:
                    continue
                promised = parse_duration(upstream.spec.slos.freshness.max_age)
                if promised + interval > needed:
                    yield violation(
                        consumer.document,
                        ("slos", "freshness", "maxAge"),
                        Code.FRESHNESS_UNACHIEVABLE.value,
                        f"{consumer.spec.ref} promises data at most {own.max_age} old, but input "
                        f"{upstream.spec.ref} may be {upstream.spec.slos.freshness.max_age} old and "
                        f"{consumer.spec.ref} is rebuilt only every {_human(interval)}",
                        hint="tighten the input's freshness, build more often, or relax this objective",
                    )


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g}d" if hours >= 24 else f"{hours:g}h"
