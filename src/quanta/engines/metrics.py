"""Engine-neutral metric descriptions: what to measure, never how (see :mod:`metric_sql`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MetricKind = Literal[
    "not_null",
    "unique",
    "allowed_values",
    "min",
    "max",
    "exclusive_min",
    "exclusive_max",
    "pattern",
    "min_length",
    "max_length",
    "row_count",
    "non_null_ratio",
    "max_value",
]


@dataclass(frozen=True)
class Metric:
    """What to measure: ``kind`` over ``columns`` with ``value`` (a bound, a pattern, allowed values)."""

    id: str
    kind: MetricKind
    columns: tuple[str, ...] = ()
    value: Any = None
    params: tuple[tuple[str, Any], ...] = field(default=())
