"""Service level objectives: what the product promises, measured as SLIs on every build."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from quanta.spec.base import Duration, Name, PropertyName, Ratio, SpecModel


class Objective(SpecModel):
    """Fields every objective shares."""

    blocking: bool = False
    """A failed measurement keeps the new snapshot unpublished (quality gate)."""
    target: Ratio = 0.99
    """Share of builds (or of time, for freshness and availability) the objective must be met in the
    window; the rest is the error budget."""
    description: str | None = None
    """Why this objective, in the consumers' words."""


class FreshnessSlo(Objective):
    """Age of the newest data (and of the last successful build against the schedule)."""

    max_age: Duration
    """Oldest acceptable age of the current snapshot."""
    timestamp: PropertyName | None = None
    """Property holding event time; the build time is used when omitted."""


class CompletenessSlo(Objective):
    """Share of non-null values in properties that may be null but should rarely be."""

    properties: list[PropertyName] = Field(min_length=1)
    """Properties measured."""
    min_ratio: Ratio
    """Smallest acceptable share of non-null values, e.g. ``95%``."""


class VolumeSlo(Objective):
    """Row count bounds and change against the previous snapshot."""

    min_rows: int | None = Field(default=None, ge=0)
    """Fewest acceptable rows."""
    max_rows: int | None = Field(default=None, ge=0)
    """Most acceptable rows."""
    max_change: Ratio | None = None
    """Largest relative change in rows against the previous snapshot."""

    @model_validator(mode="after")
    def _bounds(self) -> VolumeSlo:
        if self.min_rows is not None and self.max_rows is not None and self.min_rows > self.max_rows:
            raise ValueError("minRows is larger than maxRows")
        return self


class AvailabilitySlo(Objective):
    """Share of successful requests per port, measured by the serving layer."""

    ports: list[Name] = Field(min_length=1)
    """Output port ids measured."""
    target: Ratio
    """Smallest acceptable share of successful requests, e.g. ``99.5%``."""


class LatencySlo(Objective):
    """Response time percentiles per port, measured by the serving layer."""

    ports: list[Name] = Field(min_length=1)
    """Output port ids measured."""
    p50: Duration | None = None
    """Median response time."""
    p95: Duration | None = None
    """95th percentile response time."""
    p99: Duration | None = None
    """99th percentile response time."""

    @model_validator(mode="after")
    def _some_percentile(self) -> LatencySlo:
        if not (self.p50 or self.p95 or self.p99):
            raise ValueError("give at least one of p50, p95, p99")
        return self


class RetentionSlo(Objective):
    """How long snapshots stay readable (time travel)."""

    period: Duration | None = None
    """How long old snapshots stay readable by id or timestamp."""
    min_snapshots: int | None = Field(default=None, ge=1)
    """Fewest snapshots kept regardless of age."""


class BuildDurationSlo(Objective):
    """Longest acceptable build."""

    max: Duration
    """Longest acceptable build time."""


class Slos(SpecModel):
    """The product's objectives; checks implied by the schema are not repeated here."""

    window: Duration = "28d"
    """Rolling window for attainment and error budgets."""
    mode: Literal["batch", "streaming"] | None = None
    """Delivery mode the SLOs call for (written by the SLO questionnaire)."""
    freshness: FreshnessSlo | None = None
    """Age of the data."""
    completeness: CompletenessSlo | None = None
    """Non-null share of properties."""
    volume: VolumeSlo | None = None
    """Row counts and change."""
    availability: AvailabilitySlo | None = None
    """Port availability."""
    latency: LatencySlo | None = None
    """Port response times."""
    retention: RetentionSlo | None = None
    """Time travel."""
    build_duration: BuildDurationSlo | None = None
    """Build time."""

    def declared(self) -> dict[str, Objective]:
        """Objectives that are set, by name."""
        return {name: value for name in type(self).model_fields if isinstance(value := getattr(self, name), Objective)}
