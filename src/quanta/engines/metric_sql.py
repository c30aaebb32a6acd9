"""SQL for metrics, built with sqlglot (never concatenated). Every per-table metric of a snapshot
goes into one aggregate query, so the table is scanned once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from quanta.engines.metrics import Metric


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1.0 → 1: comparing an integer column to a float would cast every row
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def failing_condition(metric: Metric) -> Any:
    """The predicate a failing row satisfies (None for table-level metrics)."""
    column = _column(metric.columns[0]) if metric.columns else None
    kind = metric.kind
    if kind == "not_null":
        return exp.Is(this=column, expression=exp.Null())
    if column is None:
        return None
    present = exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null()))
    if kind == "allowed_values":
        return exp.and_(present, exp.Not(this=exp.In(this=column, expressions=[_literal(v) for v in metric.value])))
    comparisons = {"min": exp.LT, "max": exp.GT, "exclusive_min": exp.LTE, "exclusive_max": exp.GTE}
    if kind in comparisons:
        return comparisons[kind](this=column, expression=_literal(metric.value))
    if kind == "pattern":
        match = exp.RegexpLike(this=exp.cast(column, "VARCHAR"), expression=_literal(f"^(?:{metric.value})$"))
        return exp.and_(present, exp.Not(this=match))
    if kind == "min_length":
        return exp.LT(this=exp.Length(this=exp.cast(column, "VARCHAR")), expression=_literal(metric.value))
    if kind == "max_length":
        return exp.GT(this=exp.Length(this=exp.cast(column, "VARCHAR")), expression=_literal(metric.value))
    return None


def aggregate(metric: Metric) -> exp.Expression:
    """The aggregate expression measuring ``metric`` (failing-row count, or a value)."""
    if metric.kind == "row_count":
        return exp.Count(this=exp.Star())
    if metric.kind == "unique":
        key: exp.Expression = (
            _column(metric.columns[0])
            if len(metric.columns) == 1
            else exp.Tuple(expressions=[_column(c) for c in metric.columns])
        )
        distinct = exp.Count(this=exp.Distinct(expressions=[key.copy()]))
        present = exp.Count(this=key) if len(metric.columns) == 1 else exp.Count(this=exp.Star())
        return exp.Sub(this=present, expression=distinct)
    if metric.kind == "non_null_ratio":
        column = _column(metric.columns[0])
        return exp.Div(
            this=exp.cast(exp.Count(this=column), "DOUBLE"),
            expression=exp.func("greatest", exp.Count(this=exp.Star()), _literal(1)),
        )
    if metric.kind == "max_value":
        return exp.Max(this=_column(metric.columns[0]))
    condition = failing_condition(metric)
    assert condition is not None, metric
    return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))


def fused_query(metrics: list[Metric], table: str, dialect: str = "duckdb") -> str:
    """One SELECT computing every metric over ``table``."""
    select = exp.select(*(exp.alias_(aggregate(m), f"m{i}", quoted=True) for i, m in enumerate(metrics)))
    return select.from_(exp.to_identifier(table, quoted=True)).sql(dialect=dialect)


def single_query(metric: Metric, table: str, dialect: str = "duckdb") -> str:
    return (
        exp.select(exp.alias_(aggregate(metric), "m0", quoted=True))
        .from_(exp.to_identifier(table, quoted=True))
        .sql(dialect=dialect)
    )


def sample_query(
    metric: Metric,
    table: str,
    keys: list[str],
    limit: int = 5,
    dialect: str = "duckdb",
    masks: Mapping[str, exp.Expression] | None = None,
) -> str | None:
    """Up to ``limit`` failing rows' keys (None when the metric has no row-level condition); a
    column in ``masks`` is shown as its mask expression, never its value."""
    masks = masks or {}

    def shown(name: str) -> Any:
        return exp.alias_(masks[name].copy(), name, quoted=True) if name in masks else _column(name)

    if metric.kind == "unique":
        key_columns = [_column(c) for c in metric.columns]
        query = (
            exp.select(*[shown(c) for c in metric.columns])
            .from_(exp.to_identifier(table, quoted=True))
            .group_by(*[c.copy() for c in key_columns])
            .having(exp.GT(this=exp.Count(this=exp.Star()), expression=_literal(1)))
        )
        return query.order_by(*[c.copy() for c in key_columns]).limit(limit).sql(dialect=dialect)
    condition = failing_condition(metric)
    if condition is None or not keys:
        return None
    key_columns = [_column(c) for c in keys]
    return (
        exp.select(*[shown(c) for c in keys])
        .from_(exp.to_identifier(table, quoted=True))
        .where(condition)
        .order_by(*[c.copy() for c in key_columns])
        .limit(limit)
        .sql(dialect=dialect)
    )


def orphan_query(table: str, column: str, reference: str, reference_column: str, dialect: str = "duckdb") -> str:
    """Count rows whose ``column`` value is missing from ``reference.reference_column``."""
    inner = (
        exp.select(exp.Literal.number(1))
        .from_(exp.alias_(exp.to_identifier(reference, quoted=True), "r"))
        .where(
            exp.EQ(this=exp.column(reference_column, "r", quoted=True), expression=exp.column(column, "s", quoted=True))
        )
    )
    present = exp.Not(this=exp.Is(this=exp.column(column, "s", quoted=True), expression=exp.Null()))
    return (
        exp.select(exp.Count(this=exp.Star()))
        .from_(exp.alias_(exp.to_identifier(table, quoted=True), "s"))
        .where(exp.and_(present, exp.Not(this=exp.Exists(this=inner))))
        .sql(dialect=dialect)
    )
