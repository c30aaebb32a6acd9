"""Secured relations and pinning: masks and row filters as sqlglot expressions *inside* the
relation a reader sees, so whatever a query adds (predicates, joins, aggregates, ordering) only
ever sees masked values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlglot import exp

from quanta.sql.gate import GatedQuery
from quanta.sql.masks import MaskRule, mask_value

K = TypeVar("K")


def mask_expression(rule: MaskRule, column: str, key: bytes | None = None) -> exp.Expression:
    """What a masked property reads as under its rule (see :mod:`quanta.sql.masks`); a missing value
    (NULL) stays missing, so completeness remains visible while no value is."""
    return mask_value(rule, column, key)


def masked_projection(
    columns: Sequence[str], masked: Mapping[str, MaskRule], key: bytes | None = None
) -> list[exp.Expression]:
    """The SELECT list over ``columns`` with the masked ones replaced by their mask (``key``: the
    platform's mask key for ``hash``)."""
    projection: list[Any] = []
    for name in columns:
        column = exp.column(name, quoted=True)
        value = mask_expression(masked[name], name, key) if name in masked else column
        projection.append(exp.alias_(value, name, quoted=True) if name in masked else column)
    return projection


def secured_relation(
    files: Sequence[str],
    columns: Sequence[str],
    masked: Mapping[str, MaskRule],
    row_filter: exp.Expression | None,
    key: bytes | None = None,
) -> exp.Select:
    """``SELECT <columns, masked> FROM read_parquet([files]) [WHERE row_filter]``: the filter sees the
    stored values, everything above the relation only the masked ones."""
    source = exp.Table(
        this=exp.Anonymous(
            this="read_parquet", expressions=[exp.Array(expressions=[exp.Literal.string(f) for f in files])]
        )
    )
    select = exp.select(*masked_projection(columns, masked, key)).from_(source)
    return select.where(row_filter) if row_filter is not None else select


def pin(gated: GatedQuery[K], relations: Mapping[K, exp.Select]) -> exp.Query:
    """The gated query with every product it names replaced by its secured relation (keeping the
    name, or the alias, the query gave it)."""
    statement = gated.statement
    for table, key in gated.tables:
        alias = table.alias or table.name
        schema, name = table.db, table.name
        subquery = exp.Subquery(this=relations[key].copy(), alias=exp.TableAlias(this=exp.to_identifier(alias)))
        table.replace(subquery)
        if schema and not table.alias:  # columns qualified as schema.table.column now read the alias
            for column in statement.find_all(exp.Column):
                if column.table == name and column.db == schema:
                    column.set("db", None)
    return statement
