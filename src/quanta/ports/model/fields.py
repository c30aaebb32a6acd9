"""A model port's declared fields (features in, predictions out) and the checks of both: a
request's rows become columns only when every row has exactly the declared features with values
of their types; a scoring function's answer becomes predictions only when it has every declared
output, one value per row, of its type."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from quanta.errors import BadRequest, QuantaError
from quanta.spec.product import DataProduct

MAX_REPORTED = 20
"""Errors listed in one problem (the first names the detail)."""


@dataclass(frozen=True)
class Field:
    """One feature or prediction: its name and the values it takes."""

    name: str
    logical_type: str
    description: str | None = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not one of this field's values (None: it is)."""
        kind = self.logical_type
        if value is None:
            return f"expected {_article(kind)}, got null"
        if kind == "number":
            ok = isinstance(value, float | int) and not isinstance(value, bool) and math.isfinite(value)
        elif kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            ok = ok or (isinstance(value, float) and value.is_integer())
        elif kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            return f"expected {_article(kind)}, got {_shown(value)}"
        if self.enum is not None and value not in self.enum:
            return f"{_shown(value)} is not one of {', '.join(map(str, self.enum))}"
        if self.minimum is not None and value < self.minimum:
            return f"{_shown(value)} is below the minimum {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"{_shown(value)} is above the maximum {self.maximum:g}"
        return None


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _shown(value: Any) -> str:
    """A value as an error shows it: its JSON type, and the value itself only when short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if len(repr(value)) <= 24 else "a number"
    if isinstance(value, str):
        return repr(value) if len(value) <= 24 else "a string"
    kinds: dict[type, str] = {list: "an array", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def declared(spec: DataProduct, entries: list[Any]) -> tuple[Field, ...]:
    """The fields a port declares: a bare name is the product property of that name."""
    fields = []
    for entry in entries:
        if isinstance(entry, str):
            prop = spec.schema_.get(entry)
            if prop is None:  # validation reports it; a published spec always resolves
                raise QuantaError(f"{spec.ref}: '{entry}' is not a property")
            options = prop.logical_type_options
            low = getattr(options, "minimum", None)
            high = getattr(options, "maximum", None)
            fields.append(
                Field(
                    prop.name,
                    prop.logical_type,
                    prop.description,
                    tuple(prop.enum) if prop.enum else None,
                    low if isinstance(low, int | float) else None,
                    high if isinstance(high, int | float) else None,
                )
            )
        else:
            enum = tuple(entry.enum) if entry.enum else None
            fields.append(Field(entry.name, entry.logical_type, entry.description, enum, entry.minimum, entry.maximum))
    return tuple(fields)


class InvalidFeatures(BadRequest):
    """Rows that are not the port's features; ``errors`` lists (row, field, reason), the first ones."""

    def __init__(self, errors: list[tuple[int | None, str | None, str]]) -> None:
        row, field, reason = errors[0]
        where = "" if row is None else f"row {row}" + (f", '{field}'" if field else "") + ": "
        super().__init__(where + reason, _pointer(row, field))
        self.errors = errors


class BatchTooLarge(QuantaError):
    """More rows than the port scores in one request (HTTP 413)."""


def _pointer(row: int | None, field: str | None) -> str | None:
    if row is None:
        return "rows" if field is None else field
    return f"rows/{row}" + (f"/{field}" if field else "")


def columns(body: Any, features: tuple[Field, ...], max_batch: int) -> dict[str, list[Any]]:
    """The request body ``{"rows": [{feature: value, …}, …]}`` as columns, feature by feature;
    :class:`InvalidFeatures` naming each bad row and field, :class:`BatchTooLarge` over ``max_batch``."""
    if not isinstance(body, dict) or set(body) != {"rows"}:
        extra = sorted(set(body) - {"rows"}) if isinstance(body, dict) else []
        said = f"unknown member '{extra[0]}'" if extra else 'the body must be {"rows": [{feature: value, …}, …]}'
        raise InvalidFeatures([(None, extra[0] if extra else None, said)])
    rows = body["rows"]
    if not isinstance(rows, list) or not rows:
        raise InvalidFeatures([(None, "rows", "'rows' must be a non-empty array of objects")])
    if len(rows) > max_batch:
        raise BatchTooLarge(f"{len(rows)} rows: this port scores at most {max_batch} in one request")
    names = [f.name for f in features]
    wanted = set(names)
    errors: list[tuple[int | None, str | None, str]] = []
    out: dict[str, list[Any]] = {name: [] for name in names}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append((i, None, f"expected an object of features, got {_shown(row)}"))
        elif row.keys() != wanted:
            errors += [(i, n, "missing feature") for n in names if n not in row]
            errors += [(i, str(n), "unknown field: not a feature of this port") for n in row if n not in wanted]
        else:
            for f in features:
                value = row[f.name]
                reason = f.problem(value)
                if reason is not None:
                    errors.append((i, f.name, reason))
                else:
                    out[f.name].append(value)
        if len(errors) >= MAX_REPORTED:
            break
    if errors:
        raise InvalidFeatures(errors[:MAX_REPORTED])
    return out


class BadPredictions(Exception):
    """The scoring function's answer is not the declared predictions (a fault of the port's code,
    never of the request: the port reports it as a failed scoring)."""


def predictions(answer: Any, outputs: tuple[Field, ...], rows: int) -> dict[str, list[Any]]:
    """Check a scoring function's columns against the declared outputs (none declared: any
    columns, one JSON value per row); :class:`BadPredictions` says what is wrong."""
    if not isinstance(answer, dict) or not all(isinstance(k, str) for k in answer):
        raise BadPredictions("the scoring function must return a mapping of prediction name → values")
    if outputs:
        missing = [f.name for f in outputs if f.name not in answer]
        if missing:
            raise BadPredictions(f"the scoring function returned no '{missing[0]}'")
        unknown = sorted(set(answer) - {f.name for f in outputs})
        if unknown:
            raise BadPredictions(f"the scoring function returned '{unknown[0]}', which the port does not declare")
    for name, values in answer.items():
        if not isinstance(values, list) or len(values) != rows:
            got = f"{len(values)} values" if isinstance(values, list) else "no sequence"
            raise BadPredictions(f"the scoring function returned {got} for '{name}' for {rows} rows")
    for f in outputs:
        for i, value in enumerate(answer[f.name]):
            reason = f.problem(value)
            if reason is not None:
                raise BadPredictions(f"the scoring function's '{f.name}' of row {i}: {reason}")
    return answer
