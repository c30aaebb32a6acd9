"""The SLO questionnaire: guiding questions in, ``slos:``, a ``schedule`` and a batch-vs-streaming
recommendation out. Source products get SLOs inferred from their consumers, with conflicts."""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from quanta.errors import Diagnostic, Location, SpecError
from quanta.quality.consistency import schedule_interval
from quanta.spec.base import Duration, Name, PropertyName, Ratio, parse_duration
from quanta.spec.codes import Code
from quanta.spec.errormap import diagnostics_from
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource, ProductSource, read_spec_text
from quanta.spec.yamlsource import Document, parse_yaml

QUESTIONS: dict[str, str] = {
    "consumers": "Who consumes the product (roles or personas)?",
    "ports": "Through which ports (ids)?",
    "freshness": "How fresh must the data be when read, at most how old (e.g. 1h, 1d, 7d)?",
    "changes": "How often does the underlying data change (continuous, hourly, daily, weekly, monthly)?",
    "completeness": "Which optional properties must be mostly filled, and how much (e.g. email 95%)?",
    "availability": "Which ports must be available, and how often (e.g. api 99.5%)?",
    "response_time": "Which ports need a response time, and the 95th percentile (e.g. api 200ms)?",
    "volume": "How many rows, and how fast does that grow per year (e.g. 100000 10%)?",
    "retention": "How long must old snapshots stay readable (time travel, e.g. 365d)?",
    "impact": "What is the impact of late or wrong data (low, medium, high)?",
    "regulation": "Which regulations apply (e.g. gdpr), if any?",
}

FORMS: dict[str, str] = {
    "consumers": "names separated by spaces or commas, e.g. sales-managers analysts (empty: none)",
    "ports": "port ids (kebab-case) separated by spaces or commas, e.g. table api (empty: none)",
    "freshness": "a duration: a number and a unit ms, s, m, h, d or w, e.g. 30m, 1h, 1d, 7d (required)",
    "changes": "one of continuous, hourly, daily, weekly, monthly (empty: daily)",
    "completeness": "property names (snake_case) then a percentage, e.g. email phone 95% (empty: none)",
    "availability": "port ids then a percentage, e.g. api 99.5% (empty: none)",
    "response_time": "port ids then a duration, e.g. api 200ms (empty: none)",
    "volume": "a row count, optionally a yearly growth percentage, e.g. 100000 10% (empty: none)",
    "retention": "a duration, e.g. 90d or 365d (empty: none)",
    "impact": "one of low, medium, high (empty: medium)",
    "regulation": "names separated by spaces or commas, e.g. gdpr (empty: none)",
}
"""The accepted forms of each interactive answer, shown when an answer is refused."""

BUILD_TIME = timedelta(minutes=5)
"""The expected build time a proposed schedule leaves room for (``--build-time``)."""


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


SCHEDULES = [  # loosest first: (cron, description)
    ("0 6 1 * *", "monthly on the 1st at 06:00"),
    ("0 6 * * 1", "weekly on Monday at 06:00"),
    ("0 5 * * *", "daily at 05:00"),
    ("0 */6 * * *", "every 6 hours"),
    ("0 * * * *", "hourly"),
    ("*/30 * * * *", "every 30 minutes"),
    ("*/15 * * * *", "every 15 minutes"),
    ("*/5 * * * *", "every 5 minutes"),
]


def answer_error(key: str, value: object) -> str | None:
    """Why ``value`` is no valid answer to question ``key`` (checked by the answers model's own field),
    or None when it is valid."""
    try:
        _field_adapter(key).validate_python(value)
    except ValidationError as exc:
        return describe(exc)
    return None


def describe(exc: ValidationError) -> str:
    """A validation error in a sentence: each problem with where it is, no traceback."""
    return "; ".join(_message(error) for error in exc.errors())


def field_default(key: str) -> Any:
    """The answer a skipped question stands for, in the answers-file form."""
    info = SloAnswers.model_fields[key]
    return None if info.is_required() else info.get_default(call_default_factory=True)


def minimum_freshness(build_time: timedelta = BUILD_TIME) -> timedelta:
    """The freshest data a batch build can promise: the tightest schedule plus the build time."""
    return schedule_interval(SCHEDULES[-1][0]) + build_time


def choose_schedule(max_age: timedelta, build_time: timedelta = BUILD_TIME) -> tuple[str, str] | None:
    """The loosest schedule whose interval plus the build time stays within ``max_age``."""
    return next(
        ((cron, text) for cron, text in SCHEDULES if schedule_interval(cron) + build_time <= max_age),
        None,
    )


def propose(answers: SloAnswers, product: ProductSource, build_time: timedelta = BUILD_TIME) -> Proposal:
    """SLOs, a schedule and a delivery mode for the answers. The freshness objective is never tighter
    than the schedule allows: schedule interval plus the expected build time."""
    max_age = parse_duration(answers.freshness)
    blocking = answers.impact == "high"
    notes: list[str] = []
    freshness = answers.freshness
    mode = "streaming" if max_age < timedelta(minutes=15) else "batch"
    if mode == "streaming":
        notes.append(
            f"freshness {answers.freshness} is below 15 minutes: streaming ingestion is recommended; "
            "the schedule below is the closest batch fallback"
        )
    chosen = choose_schedule(max_age, build_time)
    if chosen is None:
        chosen = SCHEDULES[-1]
        freshness = _duration_text(minimum_freshness(build_time))
        notes.append(
            f"no batch schedule keeps data within {answers.freshness} (builds {chosen[1]} taking "
            f"{_duration_text(build_time)}): the objective is {freshness} until streaming is in place"
        )
    schedule, described = chosen
    notes.append(
        f"build {described} (expected build time {_duration_text(build_time)}) so data is never older than {freshness}"
    )
    slos: dict[str, Any] = {"mode": mode, "freshness": {"maxAge": freshness, "blocking": blocking}}
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


@dataclass(frozen=True)
class Inference:
    freshness: str | None
    """What the source must promise (None: nothing to infer, or nothing a batch build can meet)."""
    notes: list[str]
    feasible: bool = True
    """False when consumers need fresher data than any batch build of the source can deliver."""


def infer_from_consumers(mesh: MeshSource, product: ProductSource, build_time: timedelta = BUILD_TIME) -> Inference:
    """The freshness a source must meet so every consumer's own objective is achievable: a consumer
    promising ``maxAge`` and rebuilt every ``interval`` needs its input at most ``maxAge - interval``
    old (what ``design check`` verifies); the strictest consumer decides. Conflicts are noted."""
    index = ProductIndex.of(mesh)
    strictest: tuple[timedelta, str, str, timedelta] | None = None
    for consumer in mesh.products:
        for spec_input in consumer.spec.inputs:
            if spec_input.type != "product":
                continue
            upstream = index.resolve(spec_input.options.product, spec_input.options.major)
            freshness = consumer.spec.slos.freshness
            if upstream is product and freshness is not None:
                interval = schedule_interval(consumer.spec.schedule)
                allowed = parse_duration(freshness.max_age) - interval
                if strictest is None or allowed < strictest[0]:
                    strictest = (allowed, freshness.max_age, consumer.spec.ref, interval)
    if strictest is None:
        return Inference(None, ["no consumer declares a freshness SLO yet: answer the questions for consumers first"])
    allowed, needed, ref, interval = strictest
    rebuilt = f" and is rebuilt every {_duration_text(interval)}" if interval else ""
    notes = [f"strictest consumer: {ref} needs data at most {needed} old{rebuilt}"]
    if allowed < minimum_freshness(build_time):
        notes.append(
            f"conflict: {product.spec.ref} would have to be at most {_duration_text(max(allowed, timedelta(0)))} old, "
            f"but a batch build can promise no less than {_duration_text(minimum_freshness(build_time))}: "
            f"relax {ref}'s freshness, build {ref} more often, or stream"
        )
        return Inference(None, notes, feasible=False)
    inferred = _duration_text(allowed)
    notes.append(f"{product.spec.ref} must be at most {inferred} old")
    own = product.spec.slos.freshness
    if own is not None and parse_duration(own.max_age) > allowed:
        notes.append(f"conflict: {product.spec.ref} promises {own.max_age}, looser than {ref} needs ({inferred})")
    return Inference(inferred, notes)


def read_answers(path: Path) -> Document:
    """An answers file, read like a spec (a FIFO or a device is refused, not waited on): a YAML
    mapping, or a :class:`SpecError` located in the file."""
    shown = str(path)
    text = read_spec_text(path, shown)
    if isinstance(text, Diagnostic):
        raise SpecError([text])
    document, problems = parse_yaml(text, shown)
    if document is None:
        raise SpecError(problems)
    if document.data is None:
        document.data = {}
    if not isinstance(document.data, dict):
        raise SpecError(
            [
                Diagnostic(
                    Code.NOT_A_MAPPING.value,
                    "an answers file is a mapping of question keys to answers",
                    document.locate(()),
                    hint="e.g. `freshness: 1d` (docs/guides/workshop.md shows every key)",
                )
            ]
        )
    return document


def validate_answers(data: dict[str, Any], document: Document | None, session: Path) -> SloAnswers:
    """The answers as the model reads them, or a :class:`SpecError` with every problem located in
    the answers file (``document``) or, for an interactive session, the session file."""
    try:
        return SloAnswers.model_validate(data)
    except ValidationError as exc:
        if document is not None:
            raise SpecError(diagnostics_from(exc, document, SloAnswers)) from None
        problems = [
            Diagnostic(Code.INVALID_VALUE.value, _message(error), Location(str(session)), hint="answer it again")
            for error in exc.errors()
        ]
        raise SpecError(problems) from None


def session_path(root: Path, product: str) -> Path:
    """Where an interactive questionnaire keeps its answers until it is done."""
    return root / ".quanta" / "design" / f"slo-{product}.yaml"


def save_session(path: Path, answers: dict[str, Any]) -> None:
    """Write the answers so far (an answers file) atomically: a crash leaves the old or the new file."""
    from ruamel.yaml import YAML

    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.default_flow_style = None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write("# SLO questionnaire session: the answers given so far (an answers file)\n")
            yaml.dump(answers, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _duration_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@functools.cache
def _field_adapter(key: str) -> TypeAdapter[Any]:
    info = SloAnswers.model_fields[key]
    annotated: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(annotated)


def _message(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _percent(ratio: float) -> str:
    return f"{ratio * 100:g}%"
