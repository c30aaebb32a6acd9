"""The REST port's request handling without a server: typed filters bound as parameters, content
negotiation, signed cursors and the one ETag function."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from quanta.errors import BadRequest, NotAcceptable
from quanta.ports.rest.columns import Column
from quanta.ports.rest.cursor import POLICY_GENERATION_UNKNOWN, CursorSigner, CursorState, entity_tag, matches
from quanta.ports.rest.filters import condition, parse_filter, parse_filters
from quanta.ports.rest.formats import negotiate
from quanta.ports.rest.request import RowsQuery, parse_query

COLUMNS = {
    "name": Column("name", "string", "string"),
    "n": Column("n", "integer", "integer"),
    "x": Column("x", "number", "number"),
    "ok": Column("ok", "boolean", "boolean"),
    "day": Column("day", "date", "date"),
    "at": Column("at", "timestamp", "timestamp"),
    "tags": Column("tags", "array", "array"),
    "size": Column("size", "string", "string", enum=("S", "M", "L")),
    "email": Column("email", "string", "string", mask="hash"),
}


@pytest.mark.parametrize(
    ("name", "raw", "op", "values"),
    [
        ("name", "eq:Ann", "eq", ("Ann",)),
        ("name", "Ann", "eq", ("Ann",)),
        ("name", "eq:a:b", "eq", ("a:b",)),
        ("name", "12:30", "eq", ("12:30",)),  # no known operator: the whole value
        ("n", "in:1,2,3", "in", (1, 2, 3)),
        ("x", "ge:1.5", "ge", (1.5,)),
        ("ok", "ne:true", "ne", (True,)),
        ("day", "lt:2026-11-02", "lt", (date(2026, 11, 2),)),
        ("at", "gt:2026-11-02T12:00:00+01:00", "gt", (datetime(2026, 11, 2, 11),)),
        ("name", "prefix:An", "prefix", ("An",)),
        ("name", "is_null:false", "is_null", (False,)),
        ("size", "in:S,L", "in", ("S", "L")),
    ],
)
def test_filters_are_typed_by_the_received_logical_type(
    name: str, raw: str, op: str, values: tuple[object, ...]
) -> None:
    parsed = parse_filter(COLUMNS[name], raw)
    assert (parsed.op, parsed.values) == (op, values)


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("n", "eq:1.5", "integer"),
        ("n", "eq:99999999999999999999", "integer"),
        ("x", "eq:nan", "number"),
        ("ok", "eq:yes", "boolean"),
        ("day", "eq:02/11/2026", "date"),
        ("tags", "eq:a", "cannot be filtered"),
        ("ok", "lt:true", "ordered types only"),
        ("n", "prefix:1", "strings only"),
        ("size", "eq:XL", r"not one of its values \(S, M, L\)"),
        ("name", "is_null:1", "true or false"),
    ],
)
def test_bad_filter_values_name_the_property(name: str, raw: str, says: str) -> None:
    with pytest.raises(BadRequest, match=says) as caught:
        parse_filter(COLUMNS[name], raw)
    assert caught.value.param == name


def test_an_unknown_property_suggests_a_close_one() -> None:
    with pytest.raises(BadRequest, match="did you mean 'name'") as caught:
        parse_filters(COLUMNS, [("nmae", "x")])
    assert caught.value.param == "nmae"


def test_values_are_bound_as_parameters_never_written_into_sql() -> None:
    hostile = "x'; drop table t; --"
    params: dict[str, object] = {}
    filters = parse_filters(COLUMNS, [("name", f"eq:{hostile}"), ("n", "in:1,2"), ("email", "prefix:ab")])
    sql = condition(filters, params).sql(dialect="duckdb")  # type: ignore[union-attr]
    assert hostile not in sql and "drop" not in sql
    assert params == {"f0": hostile, "f1": 1, "f2": 2, "f3": "ab"}
    assert sql == '"name" = $f0 AND "n" IN ($f1, $f2) AND STARTS_WITH("email", $f3)'


def test_a_normalised_query_round_trips() -> None:
    query = parse_query(
        COLUMNS, {"fields": "name,n", "sort": "-x,name", "limit": "7"}, [("day", "ge:2026-01-01"), ("ok", "true")], 50
    )
    again = RowsQuery.from_normalised(query.normalised(), COLUMNS)
    assert again == RowsQuery(
        tuple(sorted(query.filters, key=lambda f: repr(f.normalised()))), query.fields, query.sort, 7
    )


@pytest.mark.parametrize(
    ("accept", "explicit", "chosen"),
    [
        (None, None, "json"),
        ("", None, "json"),
        ("application/json", None, "json"),
        ("text/csv", None, "csv"),
        ("text/*", None, "csv"),
        ("application/x-ndjson;q=0.2, application/vnd.apache.arrow.stream", None, "arrow"),
        ("application/json;q=0, text/csv;q=0.1", None, "csv"),
        ("image/png", "parquet", "parquet"),
    ],
)
def test_negotiation(accept: str | None, explicit: str | None, chosen: str) -> None:
    assert negotiate(accept, explicit) == chosen


def test_negotiation_refuses_what_is_not_offered() -> None:
    with pytest.raises(NotAcceptable):
        negotiate("image/png, text/html", None)
    with pytest.raises(BadRequest, match="format 'xml' is not offered"):
        negotiate(None, "xml")


def test_cursors_are_signed() -> None:
    signer = CursorSigner(b"k" * 32)
    state = CursorState("sales.orders@v1", "snap-1", "ann", {"limit": 5}, [{"date": "2026-11-02"}, "o-1"], 3)
    cursor = signer.sign(state)
    assert signer.verify(cursor) == state
    payload, mac = cursor.split(".")
    for bad in (payload + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"), payload, "", "a.b", "!!!.???"):
        with pytest.raises(BadRequest, match="not valid"):
            signer.verify(bad)
    with pytest.raises(BadRequest, match="another server process"):
        CursorSigner().verify(cursor)  # a per-process key says why a foreign cursor fails


def test_the_etag_covers_snapshot_request_decision_and_generation() -> None:
    base = entity_tag("s1", {"limit": 5}, "d1", POLICY_GENERATION_UNKNOWN)
    assert base == entity_tag("s1", {"limit": 5}, "d1", 0)
    others = {
        entity_tag("s2", {"limit": 5}, "d1", 0),
        entity_tag("s1", {"limit": 6}, "d1", 0),
        entity_tag("s1", {"limit": 5}, "d2", 0),
        entity_tag("s1", {"limit": 5}, "d1", 1),
    }
    assert base not in others and len(others) == 4
    assert matches(f'W/{base}, "other"', base) and matches("*", base) and not matches('"x"', base)
