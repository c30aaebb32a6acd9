"""SQL steps: each a view for the next, written in a dialect (transpiled when it is not the
engine's), exactly one query each."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from conformance_kit import job, output, parquet_relation, sorted_rows

from quanta.engines.base import Engine, TransformError


def test_steps_see_the_inputs_and_the_steps_before_them(engine: Engine, tmp_path: Path) -> None:
    sales = parquet_relation(tmp_path / "in", "sales", pa.table({"shop": ["a", "a", "b"], "amount": [1.5, 2.5, 4.0]}))
    transform = job(
        tmp_path / "out",
        [
            "select shop, amount * 2 as doubled from sales",
            "select shop, sum(doubled) as total, count(*) as n from step0 group by shop",
        ],
        [("shop", "string"), ("total", "number"), ("n", "integer")],
        (sales,),
    )
    result = engine.run(transform)
    assert sorted_rows(output(transform, result.files)) == [("a", 8.0, 2), ("b", 8.0, 1)]


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("duckdb", "select len([1, 2, 3]) * 2 as n, 'a' || 'b' as s"),
        ("spark", "select aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x) as n, concat('a', 'b') as s"),
        ("postgres", "select 6::bigint as n, 'a' || 'b' as s"),
    ],
)
def test_steps_in_any_supported_dialect(engine: Engine, tmp_path: Path, dialect: str, sql: str) -> None:
    transform = job(tmp_path / "out", [sql], [("n", "integer"), ("s", "string")], dialect=dialect)
    result = engine.run(transform)
    assert sorted_rows(output(transform, result.files)) == [(6, "ab")]


def test_window_and_qualify_keep_their_meaning(engine: Engine, tmp_path: Path) -> None:
    events = parquet_relation(
        tmp_path / "in", "events", pa.table({"who": ["u", "u", "u", "v", "w"], "seen": [1, 10, 9, 4, 5]})
    )
    transform = job(
        tmp_path / "out",
        [
            "select who, seen from events qualify row_number() over (partition by who order by seen desc) = 1 "
            "order by seen desc limit 2"
        ],
        [("who", "string"), ("seen", "integer")],
        (events,),
    )
    result = engine.run(transform)
    # the latest row of each (u 10, v 4, w 5), then the two latest of those; a LIMIT applied before
    # the QUALIFY filter would leave u 10 alone
    assert sorted_rows(output(transform, result.files)) == [("u", 10), ("w", 5)]


@pytest.mark.parametrize("sql", ["create table x as select 1 as a", "select 1 as a; select 2 as a", "not sql at all"])
def test_a_step_is_exactly_one_query(engine: Engine, tmp_path: Path, sql: str) -> None:
    with pytest.raises(TransformError, match=r"exactly one SELECT|does not parse"):
        engine.run(job(tmp_path / "out", [sql], [("a", "integer")]))


def test_functions_that_cannot_be_translated_are_refused(engine: Engine, tmp_path: Path) -> None:
    transform = job(tmp_path / "out", ["select my_udf(1) as n"], [("n", "integer")], dialect="spark")
    with pytest.raises(TransformError, match=r"(?i)my_udf"):
        engine.run(transform)


def test_ordered_lists_and_their_lengths_keep_their_meaning(engine: Engine, tmp_path: Path) -> None:
    events = parquet_relation(
        tmp_path / "in",
        "events",
        pa.table({"who": ["u", "u", "u", "v"], "seen": [3, 1, 2, 9], "what": ["c", "a", None, "z"]}),
    )
    transform = job(
        tmp_path / "out",
        [
            "select who, list(what order by seen desc) as path, len(list(what)) as n, "
            "list(seen order by what nulls first, seen) as by_what from events group by who"
        ],
        [("who", "string"), ("path", "array"), ("n", "integer"), ("by_what", "array")],
        (events,),
    )
    result = engine.run(transform)
    assert sorted_rows(output(transform, result.files)) == [("u", ["c", None, "a"], 3, [2, 1, 3]), ("v", ["z"], 1, [9])]
