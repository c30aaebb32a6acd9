"""A rows request parsed and validated against the columns the caller receives: projection
(``fields=a,b``), sort (``sort=-amount,order_id``), page size (``limit``), snapshot selector
(``snapshot=`` or ``as_of=``) and filters (every other parameter names a property)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quanta.errors import BadRequest
from quanta.ports.rest.columns import Column
from quanta.ports.rest.filters import Filter, parse_filters

RESERVED = ("fields", "sort", "limit", "cursor", "as_of", "snapshot", "format")
"""Parameters that are not filters (a property of one of these names cannot be filtered on)."""
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool = False


@dataclass(frozen=True)
class RowsQuery:
    """What to read from the secured relation: filters, columns, order and page size."""

    filters: tuple[Filter, ...] = ()
    fields: tuple[str, ...] = ()
    """The columns returned, in order (empty: every visible one)."""
    sort: tuple[SortKey, ...] = ()
    limit: int = DEFAULT_LIMIT

    def normalised(self) -> dict[str, Any]:
        """A canonical JSON-able form: what a cursor pins and an ETag covers."""
        return {
            "filters": sorted((f.normalised() for f in self.filters), key=repr),
            "fields": list(self.fields),
            "sort": [[k.name, k.descending] for k in self.sort],
            "limit": self.limit,
        }

    @classmethod
    def from_normalised(cls, data: Mapping[str, Any], columns: Mapping[str, Column]) -> RowsQuery:
        """The query a cursor pinned, validated again against today's columns (the caller's
        decision may have changed since: a property no longer visible is refused)."""
        raw = [(name, _raw(op, values)) for name, op, values in data["filters"]]
        return cls(
            parse_filters(columns, raw),
            parse_fields(columns, ",".join(data["fields"])) if data["fields"] else (),
            parse_sort(columns, ",".join(("-" if d else "") + n for n, d in data["sort"])) if data["sort"] else (),
            int(data["limit"]),
        )


def _raw(op: str, values: Sequence[Any]) -> str:
    def text(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    return f"{op}:{','.join(text(v) for v in values)}"


def split_params(items: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Reserved parameters (each at most once) and the filter pairs, in order."""
    reserved: dict[str, str] = {}
    filters: list[tuple[str, str]] = []
    for name, value in items:
        if name in RESERVED:
            if name in reserved:
                raise BadRequest(f"'{name}' is given more than once", name)
            reserved[name] = value
        else:
            filters.append((name, value))
    return reserved, filters


def parse_fields(columns: Mapping[str, Column], text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise BadRequest("'fields' names no property", "fields")
    for name in names:
        _known(columns, name, "fields")
    if len(set(names)) != len(names):
        raise BadRequest("'fields' names a property twice", "fields")
    return names


def parse_sort(columns: Mapping[str, Column], text: str) -> tuple[SortKey, ...]:
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise BadRequest("'sort' has an empty entry", "sort")
        descending = part.startswith("-")
        name = part.removeprefix("-").removeprefix("+")
        column = _known(columns, name, "sort")
        if column.nested:
            raise BadRequest(f"'sort': '{name}' is of type {column.logical_type} and cannot be sorted by", "sort")
        keys.append(SortKey(name, descending))
    if len({k.name for k in keys}) != len(keys):
        raise BadRequest("'sort' names a property twice", "sort")
    return tuple(keys)


def parse_limit(text: str | None, max_page_size: int) -> int:
    if text is None:
        return min(DEFAULT_LIMIT, max_page_size)
    try:
        limit = int(text)
    except ValueError:
        raise BadRequest(f"'limit' must be a whole number, not '{text}'", "limit") from None
    if not 1 <= limit <= max_page_size:
        raise BadRequest(f"'limit' must be between 1 and {max_page_size} (this port's largest page)", "limit")
    return limit


def parse_query(
    columns: Mapping[str, Column], reserved: Mapping[str, str], filters: list[tuple[str, str]], max_page_size: int
) -> RowsQuery:
    return RowsQuery(
        parse_filters(columns, filters),
        parse_fields(columns, reserved["fields"]) if "fields" in reserved else (),
        parse_sort(columns, reserved["sort"]) if "sort" in reserved else (),
        parse_limit(reserved.get("limit"), max_page_size),
    )


def parse_selector(reserved: Mapping[str, str]) -> tuple[str | None, datetime | None]:
    """``(snapshot id, as of)`` from ``snapshot=`` or ``as_of=`` (an ISO date or timestamp, UTC when
    no zone is given); both at once is a :class:`BadRequest`."""
    snapshot, as_of = reserved.get("snapshot"), reserved.get("as_of")
    if snapshot is not None and as_of is not None:
        raise BadRequest("give 'snapshot' or 'as_of', not both", "as_of")
    if snapshot is not None and not snapshot.strip():
        raise BadRequest("'snapshot' is empty", "snapshot")
    if as_of is None:
        return snapshot, None
    try:
        moment = datetime.fromisoformat(as_of)
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise BadRequest(
            f"'as_of' must be an ISO date or timestamp such as 2026-11-29T12:00:00Z, not '{as_of}'", "as_of"
        ) from None
    return None, moment


def _known(columns: Mapping[str, Column], name: str, param: str) -> Column:
    from quanta.spec.errormap import suggest

    column = columns.get(name)
    if column is None:
        hint = suggest(name, sorted(columns))
        raise BadRequest(f"'{param}': unknown property '{name}'" + (f"; {hint}" if hint else ""), param)
    return column
