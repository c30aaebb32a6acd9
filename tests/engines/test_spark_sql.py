"""SQL for Spark without a cluster: the statements sqlglot is known to transpile wrongly are
rewritten, and what cannot be run is an error naming the construct and its line."""

from __future__ import annotations

import pytest
import sqlglot

from quanta.engines.base import SqlStep, TransformError
from quanta.engines.spark.sql import Untranslatable, to_spark


def _spark(sql: str, dialect: str = "duckdb") -> str:
    return to_spark(SqlStep("output", sql, dialect))


def test_order_by_and_limit_stay_outside_the_qualify_filter() -> None:
    emitted = _spark(
        "select who, seen from events qualify row_number() over (partition by who) = 1 order by seen limit 2"
    )
    tree = sqlglot.parse_one(emitted, read="spark")
    assert tree.args.get("limit") is not None and tree.args.get("order") is not None  # on the outer query
    inner = tree.find(sqlglot.exp.Subquery)
    assert inner is not None and inner.this.args.get("limit") is None and inner.this.args.get("order") is None


def test_the_length_of_a_list_is_its_size() -> None:
    assert "SIZE(TRANSFORM(COLLECT_LIST(NAMED_STRUCT('v', x)), _e -> _e.v))" in _spark(
        "select len(list(x)) as n from t"
    )
    assert "LENGTH(name)" in _spark("select len(name) as n from t")  # a string stays a string


def test_an_ordered_list_is_sorted_by_its_keys() -> None:
    emitted = _spark("select list(x order by y desc) as l from t")
    assert "TRANSFORM(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('k0', y, 'v', x)), (_l, _r) ->" in emitted


def test_an_untranslatable_function_names_itself_and_its_line() -> None:
    with pytest.raises(Untranslatable, match=r"my_udf \(line 2\)"):
        _spark("select a,\n  my_udf(b) as c from t")


def test_order_after_qualify_on_an_unselected_column_is_refused_with_its_line() -> None:
    with pytest.raises(Untranslatable, match=r"line 3.*ORDER BY hidden"):
        _spark("select who from events\nqualify row_number() over (partition by who) = 1\norder by hidden limit 1")


def test_spark_sql_passes_unchanged_and_non_queries_are_refused() -> None:
    assert _spark("select size(array(1)) as n", dialect="spark") == "select size(array(1)) as n"
    with pytest.raises(TransformError, match="exactly one SELECT"):
        _spark("drop table t")


def test_rounding_to_places_is_done_as_duckdb_does() -> None:
    assert "ROUND((AVG(x)) * 100) / 100 AS r" in _spark("select round(avg(x), 2) as r from t")
    assert "ROUND(y) AS z" in _spark("select round(y) as z from t")
