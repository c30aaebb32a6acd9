"""A model port's declared fields (features in, predictions out) and the checks of both: a
request's rows become columns only when every row has exactly the declared features with values
of their types; a scoring function's answer becomes predictions only when it has every declared
output, one value per row, of its type.

Both checks run column by column on numpy arrays (a batch of a thousand rows is checked in
microseconds); only a column that fails is walked value by value, to name the first bad row with
the same reason :meth:`Field.problem` gives.
"""

from __future__ import annotations

import math
import operator
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from quanta.errors import BadRequest, QuantaError
from quanta.spec.product import DataProduct

MAX_REPORTED = 20
"""Errors listed in one problem (the first names the detail)."""
INT64 = (-(2**63), 2**63 - 1)
NUMERIC = {"number": "float64", "integer": "int64", "boolean": "bool"}


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
            ok = isinstance(value, float | int) and not isinstance(value, bool)
            if ok and isinstance(value, int) and abs(value) > sys.float_info.max:
                return f"{_shown(value)} is outside the range of a 64-bit float"
            ok = ok and math.isfinite(value)
        elif kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            ok = ok or (isinstance(value, float) and value.is_integer())
            if ok and not INT64[0] <= value <= INT64[1]:
                return f"{_shown(value)} is outside the 64-bit integer range"
        elif kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            return f"expected {_article(kind)}, got {_shown(value)}"
        if self.enum is not None and value not in self.enum:
            return f"{_shown(value)} is not one of {', '.join(map(str, self.enum))}"
        if kind not in ("number", "integer"):
            return None
        if self.minimum is not None and value < self.minimum:
            return f"{_shown(value)} is below the minimum {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"{_shown(value)} is above the maximum {self.maximum:g}"
        return None

    def column(self, values: Any) -> Any:
        """``values`` (a list or a 1-d array) as this field's column when every value is one of its
        values: a numpy array for numbers, integers and booleans, a list of strings; None when some
        value is not (:meth:`problem` says which and why)."""
        kind = self.logical_type
        if kind == "string":
            listed = values.tolist() if isinstance(values, np.ndarray) else values
            if not all(type(v) is str for v in listed):
                return None
            if self.enum is not None and not set(listed) <= set(self.enum):
                return None
            return listed
        array = _numeric(values, kind)
        if array is None:
            return None
        if kind != "boolean":
            if self.minimum is not None and not bool((array >= self.minimum).all()):
                return None
            if self.maximum is not None and not bool((array <= self.maximum).all()):
                return None
        if self.enum is not None and not set(array.tolist()) <= set(self.enum):
            return None
        return array


def _numeric(values: Any, kind: str) -> np.ndarray | None:
    """``values`` as a float64, int64 or bool array when each is a value of ``kind`` (None if not)."""
    if isinstance(values, np.ndarray):
        return _numeric_array(values, kind)
    types = set(map(type, values))
    if kind == "boolean":
        return np.array(values, dtype=bool) if types == {bool} else None
    if not types <= {int, float}:
        return None
    try:
        if kind == "number":
            array = np.array(values, dtype=np.float64)
            return array if bool(np.isfinite(array).all()) else None
        if float in types:  # integral floats, converted exactly (a float64 array would round big integers)
            if not all(v.is_integer() for v in values if type(v) is float):
                return None
            return np.array([int(v) for v in values], dtype=np.int64)
        return np.array(values, dtype=np.int64)
    except OverflowError:  # past float64 or int64
        return None


def _numeric_array(array: np.ndarray, kind: str) -> np.ndarray | None:
    """A scoring function's numpy column as this kind's array (None: not of this kind)."""
    dtype = array.dtype.kind
    if array.ndim != 1:
        return None
    if kind == "boolean":
        return array if dtype == "b" else None
    if dtype not in "fiu" or (dtype == "f" and not bool(np.isfinite(array).all())):
        return None
    if kind == "number":
        return array.astype(np.float64, copy=False)
    if dtype == "f":
        integral = (array == np.floor(array)) & (array >= -(2.0**63)) & (array < 2.0**63)
        return array.astype(np.int64) if bool(integral.all()) else None
    if dtype == "u" and len(array) and int(array.max()) > INT64[1]:
        return None
    return array.astype(np.int64, copy=False)


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


def columns(body: Any, features: tuple[Field, ...], max_batch: int) -> dict[str, Any]:
    """The request body ``{"rows": [{feature: value, …}, …]}`` as columns, feature by feature
    (see :meth:`Field.column`); :class:`InvalidFeatures` naming each bad row and field,
    :class:`BatchTooLarge` over ``max_batch``."""
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
    fast = _transposed(rows, names)
    if fast is not None:
        checked = {f.name: f.column(values) for f, values in zip(features, fast, strict=True)}
        if all(column is not None for column in checked.values()):
            return checked
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
    return {f.name: f.column(out[f.name]) for f in features}  # each value passed its check


def _transposed(rows: list[Any], names: list[str]) -> list[list[Any]] | None:
    """The rows' values feature by feature when every row is an object of exactly ``names`` (None
    when one is not: the row-by-row check says which and why). Runs in C loops: a row holding
    every name and no more members than there are names holds exactly the names."""
    if not names:
        return None
    try:
        if set(map(type, rows)) != {dict} or set(map(len, rows)) != {len(names)}:
            return None
        if len(names) == 1:
            return [[row[names[0]] for row in rows]]
        return [list(values) for values in zip(*map(operator.itemgetter(*names), rows), strict=True)]
    except KeyError:
        return None


class BadPredictions(Exception):
    """The scoring function's answer is not the declared predictions (a fault of the port's code,
    never of the request: the port reports it as a failed scoring)."""


def predictions(answer: Any, outputs: tuple[Field, ...], rows: int) -> dict[str, list[Any]]:
    """Check a scoring function's columns (arrays or lists) against the declared outputs (none
    declared: any columns, one JSON value per row); the columns as lists of JSON values, or
    :class:`BadPredictions` saying what is wrong."""
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
        if not isinstance(values, list | np.ndarray) or len(values) != rows:
            got = f"{len(values)} values" if isinstance(values, list | np.ndarray) else "no sequence"
            raise BadPredictions(f"the scoring function returned {got} for '{name}' for {rows} rows")
    declared = {f.name: f for f in outputs}
    checked = {}
    for name, values in answer.items():
        field = declared.get(name)
        if field is None:
            checked[name] = values.tolist() if isinstance(values, np.ndarray) else values
            continue
        column = field.column(values)
        if column is None:
            listed = values.tolist() if isinstance(values, np.ndarray) else values
            for i, value in enumerate(listed):
                reason = field.problem(value)
                if reason is not None:
                    raise BadPredictions(f"the scoring function's '{name}' of row {i}: {reason}")
            raise BadPredictions(f"the scoring function's '{name}' are not {_article(field.logical_type)}s")
        checked[name] = column.tolist() if isinstance(column, np.ndarray) else column
    return checked
