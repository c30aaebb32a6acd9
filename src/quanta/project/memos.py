"""Memos of pure, costly checks, kept in the checkout's local state: an unchanged row filter is
not parsed again, so validating (and loading) an unchanged mesh never imports the SQL parser."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata

from quanta.sql.rowfilter import RowFilter, RowFilterParser, SqlRestrictionError, parse_row_filter
from quanta.state import LocalState


def memoised_row_filter_parser(state: LocalState) -> RowFilterParser:
    """:func:`parse_row_filter`, remembered per filter text and parser version (errors too)."""

    def parse(text: str) -> RowFilter:
        kind = _kind()
        key = hashlib.sha256(text.encode()).hexdigest()
        known = state.memo(kind, key)
        if known is not None:
            return _restored(text, json.loads(known))
        try:
            parsed = parse_row_filter(text)
        except SqlRestrictionError as exc:
            state.remember(kind, key, json.dumps({"error": str(exc)}))
            raise
        verdict = {"columns": sorted(parsed.columns), "attributes": sorted(parsed.principal_attributes)}
        state.remember(kind, key, json.dumps(verdict))
        return parsed

    return parse


@cache
def _kind() -> str:
    """Memos are per parser version (looked up once, and only when a mesh has a row filter)."""
    return f"row-filter/sqlglot-{metadata.version('sqlglot')}"


def _restored(text: str, verdict: dict[str, list[str] | str]) -> RowFilter:
    if "error" in verdict:
        raise SqlRestrictionError(str(verdict["error"]))
    return RowFilter(text, frozenset(verdict["columns"]), frozenset(verdict["attributes"]))
