"""Checks a product's SQL proves, so the gate need not scan for them.

One proof so far: a final ``SELECT … GROUP BY g1, …, gn`` yields at most one row per group, so
its output is unique on any set of columns that includes every group key. The proof is
conservative: it gives up on set operations, ``ROLLUP``/``CUBE``/``GROUPING SETS``, projections
that generate rows (``unnest``, ``explode``), group keys that are not projected under a plain
name, and key columns the engine had to cast lossily when writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlglot is imported when a product is actually built, not on a no-op build
    from sqlglot import exp

    from quanta.engines.types import TypeMapping


def group_keys(sql: str, dialect: str = "duckdb") -> frozenset[str] | None:
    """Output names of the final SELECT's group keys, or ``None`` when uniqueness cannot be proved."""
    from sqlglot import exp, parse_one
    from sqlglot.errors import ParseError

    try:
        tree = parse_one(sql, dialect=dialect)
    except ParseError:
        return None
    if not isinstance(tree, exp.Select):
        return None
    group = tree.args.get("group")
    if not isinstance(group, exp.Group) or any(group.args.get(k) for k in ("rollup", "cube", "grouping_sets")):
        return None
    projections = tree.expressions
    if any(p.find(exp.Unnest, exp.Explode) or p.is_star for p in projections):
        return None
    names: set[str] = set()
    if group.args.get("all"):
        for projection in projections:
            if not projection.find(exp.AggFunc, exp.Window) and projection.alias_or_name:
                names.add(projection.alias_or_name)
        return frozenset(names) or None
    for key in group.expressions:
        name = _projected_name(key, projections)
        if name is None:
            return None
        names.add(name)
    return frozenset(names) or None


def unique_by_construction(
    sql: str, key: Sequence[str], casts: dict[str, tuple[str, str]], types: TypeMapping, dialect: str = "duckdb"
) -> bool:
    """Whether rows of ``sql``'s output are unique on ``key`` (``casts``: column → (produced, written)
    types of the columns the engine cast when writing; ``types``: the engine's type mapping, which
    says which of those casts keep distinct values distinct)."""
    groups = group_keys(sql, dialect)
    if groups is None or not groups <= set(key):
        return False
    return all(types.is_lossless(*casts[name]) for name in groups if name in casts)


def _projected_name(key: exp.Expression, projections: list[exp.Expression]) -> str | None:
    """The output name holding exactly the values of group key ``key``, if that is certain."""
    from sqlglot import exp

    if isinstance(key, exp.Literal) and key.is_int:  # GROUP BY 2
        position = int(key.name)
        return projections[position - 1].alias_or_name if 0 < position <= len(projections) else None
    direct = [p for p in projections if _same(_unaliased(p), key)]
    # DuckDB binds a bare name to an input column first, to a select alias otherwise; an alias over
    # an aggregate or window is never a group key, and any other doubt gives up
    aliased = []
    if isinstance(key, exp.Column) and not key.table:
        aliased = [
            p
            for p in projections
            if isinstance(p, exp.Alias)
            and p.alias == key.name
            and not _same(p.this, key)
            and not p.this.find(exp.AggFunc, exp.Window)
        ]
    candidates = direct + aliased
    return candidates[0].alias_or_name if len(candidates) == 1 else None


def _unaliased(projection: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return projection.this if isinstance(projection, exp.Alias) else projection


def _same(expression: exp.Expression, key: exp.Expression) -> bool:
    """Equal expressions; two columns of the same name are the same when either is unqualified."""
    from sqlglot import exp

    if isinstance(expression, exp.Column) and isinstance(key, exp.Column):
        return expression.name == key.name and (not expression.table or not key.table or expression.table == key.table)
    return expression == key
