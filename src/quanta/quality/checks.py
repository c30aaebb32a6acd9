"""Checks as data: what is measured, the limit it must meet, and what a failure means."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from quanta.engines.metrics import Metric

Status = Literal["passed", "warning", "failed", "error"]


@dataclass(frozen=True)
class Check:
    """One check: a metric (None for time-only checks) compared against a limit."""

    id: str
    description: str
    metric: Metric | None
    operator: Literal["<=", ">="]
    limit: float
    blocking: bool
    source: Literal["schema", "slo"]
    column: str | None = None
    age: bool = False
    """The metric is a timestamp and the check compares its age in seconds (freshness)."""

    def passes(self, observed: float) -> bool:
        return observed <= self.limit if self.operator == "<=" else observed >= self.limit


@dataclass(frozen=True)
class CheckResult:
    """The honest outcome of one check on one snapshot."""

    check: Check
    status: Status
    observed: float | None = None
    message: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        return self.check.blocking and self.status in ("failed", "error")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check.id,
            "description": self.check.description,
            "status": self.status,
            "observed": self.observed,
            "operator": self.check.operator,
            "limit": self.check.limit,
            "blocking": self.check.blocking,
            "source": self.check.source,
            "message": self.message,
            "sample": self.sample,
        }
