"""Shared building blocks of the spec models: the strict base model and common value types."""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

API_VERSION = "quanta/v1"


class SpecModel(BaseModel):
    """Base of every spec model: camelCase keys as in ODPS/ODCS, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        use_attribute_docstrings=False,  # read on demand: quanta.spec.docstrings
        defer_build=True,
    )


class OpenModel(SpecModel):
    """A typed envelope (``type:`` + options): extra keys are options a plugin validates."""

    model_config = ConfigDict(extra="allow")


KEBAB = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
SNAKE = r"^[a-z_][a-z0-9_]*$"

Name = Annotated[str, Field(pattern=KEBAB, max_length=63)]
"""Lower-case kebab-case name of a product, domain, role, system, use case or port."""

PropertyName = Annotated[str, Field(pattern=SNAKE, max_length=63, examples=["customer_id"])]
"""A property (column) name: lower-case snake_case, a valid SQL identifier."""

ProductRef = Annotated[
    str,
    Field(
        pattern=r"^(?:[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.)?[a-z][a-z0-9]*(?:-[a-z0-9]+)*$",
        examples=["customer.customer-marketing-360"],
    ),
]
"""A product reference, ``<domain>.<name>`` (a bare name only for domain-less proposals)."""

SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
Semver = Annotated[str, Field(pattern=SEMVER, examples=["1.0.0"])]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MAX_DURATION = timedelta(days=36500)
"""The longest duration a spec may give (100 years): anything longer overflows date arithmetic."""


def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"45s"``, ``"200ms"``, ``"2w"`` → timedelta (at most
    :data:`MAX_DURATION`)."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30m, 12h, 7d, 200ms")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]  # a huge number is inf, never an error
    if not seconds <= MAX_DURATION.total_seconds():
        raise ValueError(f"'{text.strip()}' is too long; durations are at most 100 years (36500d)")
    return timedelta(seconds=seconds)


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?(ms|s|m|h|d|w)$", "examples": ["7d"]}),
]
"""A duration: a number and a unit (ms, s, m, h, d, w), e.g. ``7d`` or ``200ms``."""


def _parse_ratio(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError(f"'{value}' is not a percentage like 99.5% (or a number from 0 to 1)")
        try:
            return float(text[:-1]) / 100
        except ValueError:
            raise ValueError(f"'{value}' is not a percentage like 99.5%") from None
    return value


Ratio = Annotated[
    float,
    BeforeValidator(_parse_ratio),
    Field(ge=0, le=1),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": r"^\d+(\.\d+)?%$"}],
            "examples": ["99.5%", 0.95],
        }
    ),
]
"""A ratio: ``99.5%`` or a number between 0 and 1."""


@functools.cache
def _is_cron(value: str) -> bool:
    from croniter import croniter  # kept local so importing specs stays quick

    return len(value.split()) == 5 and bool(croniter.is_valid(value))


def _check_cron(value: str) -> str:
    if not _is_cron(value):
        raise ValueError(f"'{value}' is not a cron expression (minute hour day month weekday)")
    return value


Cron = Annotated[
    str,
    AfterValidator(_check_cron),
    WithJsonSchema(
        {"type": "string", "examples": ["0 6 * * 1"], "description": "cron: minute hour day-of-month month day-of-week"}
    ),
]


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"'{value}' is not a valid regular expression: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]


EngineName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", examples=["duckdb", "spark"])]
"""The name of a registered engine (built in: ``duckdb``; ``spark`` with ``quanta[spark]``; others
from installed packages' ``quanta.engines`` entry points). ``quanta validate`` checks it is registered."""
