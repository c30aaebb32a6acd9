"""The SLO questionnaire: guiding questions in, ``slos:``, a ``schedule`` and a batch-vs-streaming
recommendation out. Source products get SLOs inferred from their consumers, with conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from quanta.spec.base import Duration, Name, PropertyName, Ratio, parse_duration
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource, ProductSource

QUESTIONS: dict[str, str] = {
    "consumers": "Who consumes the product (roles or personas)?",
    "ports": "Through which ports (ids)?",
    "freshness": "How fresh must the data be when read (e.g. 1h, 1d, 7d)?",
    "changes": "How often does the underlying data change (continuous, hourly, daily, weekly, monthly)?",
    "completeness": "Which optional properties must be mostly filled, and how much (e.g. email 95%)?",
    "availability": "Which ports must be available, and how often (e.g. api 99.5%)?",
    "response_time": "Which ports need a response time, and the 95th percentile (e.g. api 200ms)?",
    "volume": "How many rows, and how fast does that grow per year (e.g. 100000 10%)?",
    "retention": "How long must old snapshots stay readable (time travel, e.g. 365d)?",
    "impact": "What is the impact of late or wrong data (low, medium, high)?",
    "regulation": "Which regulations apply (e.g. gdpr), if any?",
}


class _Answers(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class PortTarget(_Answers):
    ports: list[Name]
    target: Ratio


class PortLatency(_Answers):
    ports: list[Name]
    p95: Duration


class Completeness(_Answers):
    properties: list[PropertyName]
    min_ratio: Ratio


class Volume(_Answers):
    rows: int = Field(ge=0)
    growth: Ratio = 0.0


class SloAnswers(_Answers):
    """Answers to the guiding questions (an answers file uses these keys)."""

    consumers: list[str] = Field(default_factory=list)
    ports: list[Name] = Field(default_factory=list)
    freshness: Duration
    changes: Literal["continuous", "hourly", "daily", "weekly", "monthly"] = "daily"
    completeness: Completeness | None = None
    availability: PortTarget | None = None
    response_time: PortLatency | None = None
    volume: Volume | None = None
    retention: Duration | None = None
    impact: Literal["low", "medium", "high"] = "medium"
    regulation: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Proposal:
    slos: dict[str, Any]
    schedule: str
    mode: str
    notes: list[str] = field(default_factory=list)


_SCHEDULES = [  # (freshness up to, cron, description)
    (timedelta(hours=1), "*/15 * * * *", "every 15 minutes"),
    (timedelta(hours=6), "0 * * * *", "hourly"),
    (timedelta(days=7), "0 5 * * *", "daily at 05:00"),
    (timedelta(days=31), "0 6 * * 1", "weekly on Monday at 06:00"),
]


def propose(answers: SloAnswers, product: ProductSource) -> Proposal:
    """SLOs, a schedule and a delivery mode for the answers."""
    max_age = parse_duration(answers.freshness)
    blocking = answers.impact == "high"
    notes: list[str] = []
    mode = "streaming" if max_age < timedelta(minutes=15) else "batch"
    if mode == "streaming":
        notes.append(
            f"freshness {answers.freshness} is below 15 minutes: streaming ingestion is recommended; "
            "the schedule below is the closest batch fallback"
        )
    schedule, described = next(
        ((cron, text) for limit, cron, text in _SCHEDULES if max_age <= limit), ("0 6 1 * *", "monthly")
    )
    notes.append(f"build {described} so data is never older than {answers.freshness}")
    slos: dict[str, Any] = {"mode": mode, "freshness": {"maxAge": answers.freshness, "blocking": blocking}}
    if answers.completeness:
        slos["completeness"] = {
            "properties": answers.completeness.properties,
            "minRatio": _percent(answers.completeness.min_ratio),
        }
    if answers.volume:
        slos["volume"] = {
            "minRows": answers.volume.rows // 2,
            "maxChange": _percent(max(0.2, answers.volume.growth * 2)),
        }
    if answers.availability:
        slos["availability"] = {"ports": answers.availability.ports, "target": _percent(answers.availability.target)}
    if answers.response_time:
        slos["latency"] = {"ports": answers.response_time.ports, "p95": answers.response_time.p95}
    if answers.retention:
        slos["retention"] = {"period": answers.retention}
    if blocking:
        notes.append("high impact of late or wrong data: freshness blocks publishing")
    classified = [p.name for p in product.spec.schema_.properties if p.is_classified]
    if answers.regulation and not classified:
        notes.append(
            f"regulation {', '.join(answers.regulation)} applies but no property is classified: "
            "classify personal data (classification: pii)"
        )
    unknown = sorted(set(answers.ports) - {o.id for o in product.spec.outputs})
    if unknown:
        notes.append(f"ports {', '.join(unknown)} are not declared yet")
    return Proposal(slos, schedule, mode, notes)


def infer_from_consumers(mesh: MeshSource, product: ProductSource) -> tuple[str | None, list[str]]:
    """The freshness a source must meet: its strictest consumer's, and any conflict with its own."""
    index = ProductIndex.of(mesh)
    strictest: tuple[timedelta, str, str] | None = None
    for consumer in mesh.products:
        for spec_input in consumer.spec.inputs:
            if spec_input.type != "product":
                continue
            upstream = index.resolve(spec_input.options.product, spec_input.options.major)
            freshness = consumer.spec.slos.freshness
            if upstream is product and freshness is not None:
                age = parse_duration(freshness.max_age)
                if strictest is None or age < strictest[0]:
                    strictest = (age, freshness.max_age, consumer.spec.ref)
    if strictest is None:
        return None, ["no consumer declares a freshness SLO yet: answer the questions for consumers first"]
    notes = [f"strictest consumer: {strictest[2]} needs data at most {strictest[1]} old"]
    own = product.spec.slos.freshness
    if own is not None and parse_duration(own.max_age) > strictest[0]:
        notes.append(
            f"conflict: {product.spec.ref} promises {own.max_age}, looser than {strictest[2]} needs ({strictest[1]})"
        )
    return strictest[1], notes


def _percent(ratio: float) -> str:
    return f"{ratio * 100:g}%"
