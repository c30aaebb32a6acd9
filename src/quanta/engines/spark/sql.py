"""SQL steps for Spark: transpiled from their declared dialect with sqlglot, with the constructs
sqlglot is known to transpile wrongly rewritten first (imports no PySpark, so it is tested
without a cluster).

Rewritten before transpiling (each was seen giving different results on Spark):

* ``… QUALIFY … ORDER BY … LIMIT n``: sqlglot moves the ORDER BY and LIMIT into the subquery it
  makes of the QUALIFY, so the limit applies before the filter; they are kept outside it.
* ``len(<a list>)`` (DuckDB's list length) becomes ``LENGTH`` (a string length); it becomes ``SIZE``.
* a generator inside an expression (``CAST(UNNEST(a) AS t)``) is refused by Spark; the cast moves
  into the array (``EXPLODE(TRANSFORM(a, x -> CAST(x AS t)))``);
* ``round(x, n)`` (n > 0) rounds the decimal text of a double on Spark, DuckDB the double scaled
  by 10^n; it is written DuckDB's way (a decimal ``x`` then gets a wider scale, the same values);
* ``list(x)`` becomes ``COLLECT_LIST(x)``, which drops NULL values that DuckDB's ``list`` keeps; the
  values are collected wrapped in a struct and unwrapped.
* ``first(x ORDER BY k …)`` is not Spark syntax; it becomes the first element of the ordered list
  below;
* an ordered aggregate ``list(x ORDER BY k …)`` becomes ``COLLECT_LIST(x)``, which loses the order;
  it becomes ``transform(array_sort(collect_list(named_struct(keys…, x)), comparator), e -> e.v)``
  with a comparator honouring each key's direction and NULLS FIRST/LAST (and keeping NULL values of
  ``x``, as DuckDB's ``list`` does).

DuckDB's ``date_sub('year' | 'month' | 'day', a, b)`` (complete parts between two dates), which
sqlglot does not know, is written with ``year``/``month``/``day``. Any other function sqlglot does
not know (it would pass through untranslated) is an error naming it and its line, as is a
construct that cannot be rewritten.
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp, parse
from sqlglot.errors import ParseError

from quanta.engines.base import SqlStep, TransformError

TARGET = "spark"


class Untranslatable(TransformError):
    """A construct of a step that cannot be run on Spark as written."""


def to_spark(step: SqlStep) -> str:
    """The step as one Spark SQL query; :class:`TransformError` for anything else."""
    try:
        statements = [s for s in parse(step.sql, dialect=step.dialect) if s is not None]
    except ParseError as exc:
        raise TransformError(f"step '{step.name}' does not parse: {_first_line(str(exc))}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise TransformError(f"step '{step.name}' must be exactly one SELECT query")
    if step.dialect == TARGET:
        return step.sql
    tree = _known_functions(cast(exp.Expression, statements[0]), step)
    unknown = sorted({(f.name, f.meta.get("line", 0)) for f in tree.find_all(exp.Anonymous)}, key=lambda x: x[1])
    if unknown:
        shown = ", ".join(f"{name} (line {line})" if line else name for name, line in unknown)
        raise Untranslatable(
            f"step '{step.name}' uses functions that cannot be translated from {step.dialect}: {shown}"
        )
    return _generators_outermost(rewrite(tree, step).sql(dialect=TARGET))


def _generators_outermost(sql: str) -> str:
    """Spark allows a generator only as a whole select item: ``CAST(EXPLODE(a) AS t)`` (from DuckDB's
    ``CAST(UNNEST(a) AS t)``) becomes ``EXPLODE(TRANSFORM(a, x -> CAST(x AS t)))``."""
    tree = parse(sql, dialect=TARGET)[0]
    assert tree is not None
    changed = False
    for node in list(tree.find_all(exp.Cast)):  # TryCast is a Cast
        if isinstance(node.this, exp.Explode):
            element = exp.to_identifier("_x")
            converted = node.__class__(this=exp.column("_x"), to=node.args["to"].copy())
            mapped = exp.Anonymous(
                this="transform", expressions=[node.this.this.copy(), exp.Lambda(this=converted, expressions=[element])]
            )
            node.replace(exp.Explode(this=mapped))
            changed = True
    return tree.sql(dialect=TARGET) if changed else sql


def _known_functions(tree: exp.Expression, step: SqlStep) -> exp.Expression:
    """DuckDB functions sqlglot does not know, written in Spark's terms: ``date_sub(part, a, b)``
    (complete years, months or days from ``a`` to ``b``)."""
    if step.dialect != "duckdb":
        return tree
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "date_sub" and len(call.expressions) == 3 and call.expressions[0].is_string:
            part = call.expressions[0].name.lower().rstrip("s")
            replacement = _complete_parts(part, call.expressions[1], call.expressions[2])
            if replacement is not None:
                call.replace(replacement)
    return tree


def _complete_parts(part: str, start: exp.Expression, end: exp.Expression) -> exp.Expression | None:
    def field(name: str, value: exp.Expression) -> exp.Expression:
        kinds: dict[str, type[exp.Func]] = {"year": exp.Year, "month": exp.Month, "day": exp.Day}
        return cast(exp.Expression, kinds[name](this=value.copy()))

    if part == "day":
        return exp.DateDiff(this=end.copy(), expression=start.copy())
    earlier_day = exp.LT(this=field("day", end), expression=field("day", start))
    if part == "month":
        months = exp.Add(
            this=exp.Mul(
                this=exp.Paren(this=exp.Sub(this=field("year", end), expression=field("year", start))),
                expression=exp.Literal.number(12),
            ),
            expression=exp.Sub(this=field("month", end), expression=field("month", start)),
        )
        return exp.Sub(
            this=months, expression=exp.case().when(earlier_day, exp.Literal.number(1)).else_(exp.Literal.number(0))
        )
    if part == "year":
        earlier = exp.or_(
            exp.LT(this=field("month", end), expression=field("month", start)),
            exp.and_(exp.EQ(this=field("month", end), expression=field("month", start)), earlier_day),
        )
        years = exp.Sub(this=field("year", end), expression=field("year", start))
        return exp.Sub(
            this=years, expression=exp.case().when(earlier, exp.Literal.number(1)).else_(exp.Literal.number(0))
        )
    return None


def rewrite(query: exp.Expression | exp.Query, step: SqlStep) -> exp.Expression:
    """``query`` with the constructs sqlglot transpiles wrongly to Spark replaced by correct ones."""
    tree = cast(exp.Expression, query).copy()  # a Query is an Expression; sqlglot's stubs say otherwise
    for length in list(tree.find_all(exp.Length)):
        if _is_list(length.this):
            length.replace(exp.ArraySize(this=length.this.copy()))
    if step.dialect == "duckdb":
        for rounding in list(tree.find_all(exp.Round)):
            rounding.replace(_round_as_duckdb(rounding))
    for first in list(tree.find_all(exp.First)):
        if isinstance(first.this, exp.Order):  # first(x ORDER BY k): the head of the ordered list
            ordered = _ordered_list(exp.ArrayAgg(this=first.this.copy()), step)
            first.replace(exp.Anonymous(this="element_at", expressions=[ordered, exp.Literal.number(1)]))
    for aggregate in list(tree.find_all(exp.ArrayAgg)):
        if isinstance(aggregate.this, exp.Order):
            aggregate.replace(_ordered_list(aggregate, step))
        elif not aggregate.args.get("distinct") and not isinstance(aggregate.this, exp.Distinct):
            aggregate.replace(_list_with_nulls(aggregate.this))
    for select in list(tree.find_all(exp.Select)):
        if select.args.get("qualify") and (select.args.get("order") or select.args.get("limit")):
            outside = _qualify_outside(select, step)
            if select is tree:
                tree = outside
            else:
                select.replace(outside)
    return tree


def _is_list(node: exp.Expression) -> bool:
    """Whether ``node`` certainly yields a list (DuckDB's ``len`` then means its length)."""
    return isinstance(node, exp.ArrayAgg | exp.Array | exp.Split | exp.ArrayConcat) or node.is_type(
        exp.DataType.Type.ARRAY
    )


def _ordered_list(node: exp.ArrayAgg, step: SqlStep) -> exp.Expression:
    order = node.this
    assert isinstance(order, exp.Order)
    value = order.this
    keys = [ordered for ordered in order.expressions if isinstance(ordered, exp.Ordered)]
    if not keys or len(keys) != len(order.expressions):
        raise Untranslatable(f"step '{step.name}'{_line(node)}: an ordered list() whose ORDER BY cannot be rewritten")
    fields: list[exp.Expression] = []
    for i, key in enumerate(keys):
        fields += [exp.Literal.string(f"k{i}"), key.this.copy()]
    fields += [exp.Literal.string("v"), value.copy()]
    collected = exp.Anonymous(this="collect_list", expressions=[exp.Anonymous(this="named_struct", expressions=fields)])
    comparator: exp.Expression = exp.Literal.number(0)
    for i in reversed(range(len(keys))):
        comparator = _compare(
            f"k{i}", bool(keys[i].args.get("desc")), bool(keys[i].args.get("nulls_first")), comparator
        )
    left, right = exp.to_identifier("_l"), exp.to_identifier("_r")
    sorted_ = exp.Anonymous(
        this="array_sort", expressions=[collected, exp.Lambda(this=comparator, expressions=[left, right])]
    )
    element = exp.to_identifier("_e")
    pick = exp.Lambda(this=exp.Dot(this=exp.column("_e"), expression=exp.to_identifier("v")), expressions=[element])
    return exp.Anonymous(this="transform", expressions=[sorted_, pick])


def _round_as_duckdb(node: exp.Round) -> exp.Expression:
    """DuckDB rounds ``x`` to ``n`` places as ``round(x * 10^n) / 10^n`` in floating point; Spark
    rounds the decimal text of ``x`` half up, so a value such as 19.525 (19.52499… as a double)
    would round differently. Written DuckDB's way, both round the same double."""
    places = node.args.get("decimals")
    if places is None or not places.is_int or int(places.name) <= 0:
        return node
    scale = exp.Literal.number(10 ** int(places.name))
    scaled = exp.Round(this=exp.Mul(this=exp.Paren(this=node.this.copy()), expression=scale))
    return exp.Div(this=scaled, expression=scale.copy())


def _list_with_nulls(value: exp.Expression) -> exp.Expression:
    """``list(x)`` keeping NULL values of ``x`` (Spark's ``collect_list`` drops them)."""
    wrapped = exp.Anonymous(this="named_struct", expressions=[exp.Literal.string("v"), value.copy()])
    collected = exp.Anonymous(this="collect_list", expressions=[wrapped])
    pick = exp.Lambda(
        this=exp.Dot(this=exp.column("_e"), expression=exp.to_identifier("v")), expressions=[exp.to_identifier("_e")]
    )
    return exp.Anonymous(this="transform", expressions=[collected, pick])


def _compare(field: str, descending: bool, nulls_first: bool, then: exp.Expression) -> exp.Expression:
    def side(name: str) -> exp.Expression:
        return exp.Dot(this=exp.column(f"_{name}"), expression=exp.to_identifier(field))

    def number(value: int) -> exp.Expression:
        return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))

    left_null = exp.Is(this=side("l"), expression=exp.Null())
    right_null = exp.Is(this=side("r"), expression=exp.Null())
    first = -1 if nulls_first else 1
    less = 1 if descending else -1
    return (
        exp.case()
        .when(exp.and_(left_null, right_null.copy()), then)
        .when(left_null.copy(), number(first))
        .when(right_null.copy(), number(-first))
        .when(exp.LT(this=side("l"), expression=side("r")), number(less))
        .when(exp.GT(this=side("l"), expression=side("r")), number(-less))
        .else_(then.copy())
    )


def _qualify_outside(select: exp.Select, step: SqlStep) -> exp.Expression:
    """``SELECT … QUALIFY q ORDER BY o LIMIT n`` as ``SELECT * FROM (SELECT … QUALIFY q) ORDER BY o LIMIT n``."""
    inner = select.copy()
    order, limit = inner.args.get("order"), inner.args.get("limit")
    inner.set("order", None)
    inner.set("limit", None)
    names = {projection.alias_or_name for projection in inner.expressions}
    if order is not None:
        for column in order.find_all(exp.Column):
            if column.name not in names:
                raise Untranslatable(
                    f"step '{step.name}'{_line(column)}: ORDER BY {column.sql()} after QUALIFY must name a selected "
                    "column to run on Spark"
                )
            column.set("table", None)
    outer = exp.select(exp.Star()).from_(inner.subquery("_qualified"))
    outer.set("order", order)
    outer.set("limit", limit)
    return outer


def _line(node: exp.Expression) -> str:
    for candidate in (node, *node.find_all(exp.Identifier)):
        line = candidate.meta.get("line") if candidate.meta else None
        if line:
            return f" (line {line})"
    return ""


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "failed"
