"""The engine-neutral content hash of a snapshot (version ``r1``), as sqlglot expressions every
engine renders in its dialect, so DuckDB and Spark compute the same hash of the same rows.

The encoding, per row, in the declared column order:

* each value becomes text — ``string`` as is; ``integer``, decimal ``number``, ``date`` (ISO
  ``YYYY-MM-DD``) and ``time`` as the SQL cast to text; ``boolean`` as ``true``/``false``;
  ``timestamp`` as microseconds since the Unix epoch (UTC); ``array``/``object`` as ``to_json``;
* a value is written ``<length>:<text>`` (length in characters), a NULL as ``-``, and the pieces
  are concatenated (self-delimiting, so no two rows encode alike);
* the row's digest is ``md5`` of that text (lowercase hex); hex digits 1 to 15 and 16 to 30 are read as
  two 60-bit integers.

The snapshot's hash is ``r1:`` + SHA-256 of ``r1|<column names joined by ,>|<row count>|<sum of
the first integers>|<sum of the second>``: independent of row order and of how rows are split
into files. Floating-point numbers are cast to text by each engine's own shortest round-trip
formatting, which may differ between engines (``1e+20`` against ``1.0E20``), and so may JSON of
structs with NULL fields; every other type hashes identically on every engine.

Hashes without the ``r1:`` prefix are the previous scheme (DuckDB's internal ``hash()``); see
:func:`is_neutral`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

VERSION = "r1"
PREFIX = f"{VERSION}:"


def is_neutral(content_hash: str) -> bool:
    """Whether ``content_hash`` was computed with this scheme (not the DuckDB-only one before it)."""
    return content_hash.startswith(PREFIX)


def _text(column: exp.Expression) -> exp.Expression:
    return exp.cast(column, exp.DataType.build("VARCHAR"))


def _duckdb_epoch_us(column: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="epoch_us", expressions=[column])


def _spark_epoch_us(column: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="unix_micros", expressions=[exp.cast(column, exp.DataType.build("TIMESTAMP"))])


def _duckdb_hex60(digits: exp.Expression) -> exp.Expression:
    return exp.cast(exp.DPipe(this=exp.Literal.string("0x"), expression=digits), exp.DataType.build("BIGINT"))


def _spark_hex60(digits: exp.Expression) -> exp.Expression:
    converted = exp.Anonymous(this="conv", expressions=[digits, exp.Literal.number(16), exp.Literal.number(10)])
    return exp.cast(converted, exp.DataType.build("BIGINT"))


_DIALECTS: dict[str, tuple[Callable[[exp.Expression], exp.Expression], Callable[[exp.Expression], exp.Expression]]] = {
    "duckdb": (_duckdb_epoch_us, _duckdb_hex60),
    "spark": (_spark_epoch_us, _spark_hex60),
}
"""Per dialect: microseconds since the epoch of a timestamp, and a 15-hex-digit string as BIGINT."""


def supports(dialect: str) -> bool:
    return dialect in _DIALECTS


def _value_text(column: exp.Expression, logical_type: str, dialect: str) -> exp.Expression:
    epoch_us, _ = _DIALECTS[dialect]
    if logical_type == "string":
        return column
    if logical_type == "boolean":
        return exp.case().when(column, exp.Literal.string("true")).else_(exp.Literal.string("false"))
    if logical_type == "timestamp":
        return _text(epoch_us(column))
    if logical_type in ("array", "object"):
        return _text(exp.Anonymous(this="to_json", expressions=[column]))
    return _text(column)


def _piece(name: str, logical_type: str, dialect: str) -> exp.Expression:
    column = exp.column(name, quoted=True)
    text = _value_text(column, logical_type, dialect)
    encoded = exp.Concat(
        expressions=[_text(exp.Length(this=text.copy())), exp.Literal.string(":"), text], safe=False, coalesce=False
    )
    return exp.case().when(exp.Is(this=column.copy(), expression=exp.Null()), exp.Literal.string("-")).else_(encoded)


def query(table: str, columns: Sequence[tuple[str, str]], dialect: str) -> str:
    """``SELECT count, sum1, sum2 FROM table``: what :func:`finish` turns into the hash. ``columns``
    are (name, logical type) in the declared order; ``table`` is a relation name."""
    if dialect not in _DIALECTS:
        raise NotImplementedError(f"no neutral row hash for the {dialect} dialect")
    _, hex60 = _DIALECTS[dialect]
    pieces = [_piece(name, logical, dialect) for name, logical in columns] or [exp.Literal.string("")]
    digest = exp.MD5(this=exp.Concat(expressions=pieces, safe=False, coalesce=False) if len(pieces) > 1 else pieces[0])
    inner = exp.select(exp.alias_(digest, "d", quoted=True)).from_(exp.to_identifier(table, quoted=True))
    wide = exp.DataType.build("DECIMAL(20, 0)")
    sums = []
    for start in (1, 16):
        digits = exp.Substring(
            this=exp.column("d", quoted=True), start=exp.Literal.number(start), length=exp.Literal.number(15)
        )
        sums.append(exp.Coalesce(this=exp.Sum(this=exp.cast(hex60(digits), wide)), expressions=[exp.Literal.number(0)]))
    outer = exp.select(exp.Count(this=exp.Star()), *sums).from_(inner.subquery("h"))
    return outer.sql(dialect=dialect)


def finish(columns: Sequence[tuple[str, str]], row: Sequence[Any]) -> tuple[int, str]:
    """Row count and content hash from :func:`query`'s one row."""
    count, first, second = (int(value or 0) for value in row)
    names = ",".join(name for name, _ in columns)
    return count, PREFIX + hashlib.sha256(f"{VERSION}|{names}|{count}|{first}|{second}".encode()).hexdigest()
