"""Read current or past snapshots, and run read-only SQL over every product's current snapshot.

Classified properties are masked unless the caller asks to unmask them (the access layer will
decide that per principal; the local CLI trusts its user with ``--unmask``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from quanta.catalog import Catalog, SnapshotRecord
from quanta.engines.interrupt import interruptible
from quanta.errors import QuantaError
from quanta.spec.index import sql_identifier
from quanta.spec.product import DataProduct
from quanta.spec.schema import CLASSIFIED
from quanta.storage import SnapshotLocation, SnapshotStore

if TYPE_CHECKING:
    from sqlglot import exp

MASK = "***"


class QueryError(QuantaError):
    """A query was refused or failed; the message says why."""


@dataclass(frozen=True)
class Readable:
    """A product snapshot ready to read: its spec, snapshot record and files."""

    spec: DataProduct
    snapshot: SnapshotRecord
    files: tuple[str, ...]


def snapshot_for(
    catalog: Catalog, spec: DataProduct, snapshot_id: str | None = None, as_of: datetime | None = None
) -> SnapshotRecord | None:
    """The current snapshot, a snapshot by id, or the one that was current at ``as_of``."""
    key = spec.key
    if snapshot_id is not None:
        record = catalog.snapshots.get(snapshot_id)
        if record is None or record.product_key != key:
            raise QueryError(f"{key} has no snapshot {snapshot_id}")
        return record
    if as_of is not None:
        return catalog.snapshots.as_of(key, as_of)
    return catalog.snapshots.current(key)


def readable(
    catalog: Catalog,
    store: SnapshotStore,
    spec: DataProduct,
    snapshot_id: str | None = None,
    as_of: datetime | None = None,
) -> Readable | None:
    record = snapshot_for(catalog, spec, snapshot_id, as_of)
    if record is None:
        return None
    files = tuple(str(p) for p in store.data_files(location_of(spec), record.id))
    return Readable(spec, record, files)


def location_of(spec: DataProduct) -> SnapshotLocation:
    """Where a product major's snapshots live in storage."""
    return SnapshotLocation(spec.domain or "_", spec.name, spec.major)


def read_table(
    catalog: Catalog,
    store: SnapshotStore,
    spec: DataProduct,
    snapshot_id: str | None = None,
    as_of: datetime | None = None,
    unmask: bool = False,
    limit: int | None = None,
) -> Any:
    """A snapshot of ``spec`` as a pyarrow Table (current, by id, or as of a time), masked."""
    target = readable(catalog, store, spec, snapshot_id, as_of)
    if target is None:
        raise QuantaError(f"{spec.key} has no snapshot" + (f" as of {as_of}" if as_of else ""))
    import duckdb

    with duckdb.connect(":memory:") as connection:
        columns = [duckdb.SQLExpression(c) for c in masked_columns(target.snapshot, unmask)]
        relation = connection.read_parquet(list(target.files)).select(*columns)
        if limit is not None:
            relation = relation.limit(limit)
        return relation.to_arrow_table()


def masked_columns(snapshot: SnapshotRecord, unmask: bool) -> list[str]:
    """SELECT list for a snapshot (with the schema it was published with), classified properties
    masked unless ``unmask``."""
    from sqlglot import exp  # only readers that mask need the SQL toolkit

    columns = []
    for prop in snapshot.schema:
        quoted = exp.to_identifier(prop["name"], quoted=True).sql("duckdb")
        if prop.get("classification") in CLASSIFIED and not unmask:
            columns.append(f"CASE WHEN {quoted} IS NULL THEN NULL ELSE '{MASK}' END AS {quoted}")
        else:
            columns.append(quoted)
    return columns


def query(
    products: list[DataProduct],
    catalog: Catalog,
    store: SnapshotStore,
    sql: str,
    *,
    unmask: bool = False,
    as_of: datetime | None = None,
    limit: int | None = None,
) -> Any:
    """Run one read-only SELECT over the current snapshots of ``products``; they are tables
    ``<domain>.<product>`` (the highest major) and ``<domain>.<product>_v<major>``."""
    import duckdb

    statement = _parse_select(sql)
    connection = duckdb.connect(":memory:")
    try:
        latest: dict[str, int] = {}
        for spec in products:
            latest[spec.ref] = max(latest.get(spec.ref, spec.major), spec.major)
        for number, spec in enumerate(sorted(products, key=lambda p: (p.ref, p.major))):
            target = readable(catalog, store, spec, as_of=as_of)
            if target is None or not target.files:
                continue
            schema = _quoted(sql_identifier(spec.domain or "proposed"))
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            source = f"__snapshot_{number}"
            columns = [duckdb.SQLExpression(c) for c in masked_columns(target.snapshot, unmask)]
            connection.read_parquet(list(target.files)).select(*columns).create_view(source)
            for name in _names(spec, latest[spec.ref] == spec.major):
                connection.execute(f"CREATE OR REPLACE VIEW {schema}.{_quoted(name)} AS SELECT * FROM {source}")
        if limit is not None:
            from sqlglot import exp

            statement = (
                statement.limit(limit)
                if isinstance(statement, exp.Select)
                else exp.select("*").from_(statement.subquery("limited")).limit(limit)
            )
        try:
            text = statement.sql(dialect="duckdb")
            return interruptible(connection, lambda: connection.sql(text).to_arrow_table())
        except duckdb.Error as exc:
            raise QueryError(str(exc).strip().splitlines()[0]) from None
    finally:
        connection.close()


def _names(spec: DataProduct, latest: bool) -> list[str]:
    table = sql_identifier(spec.name)
    return [table, f"{table}_v{spec.major}"] if latest else [f"{table}_v{spec.major}"]


def _quoted(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _parse_select(sql: str) -> exp.Query:
    from quanta.engines.sql import SqlRestrictionError, parse_select

    try:
        return parse_select(sql)
    except SqlRestrictionError as exc:
        raise QueryError(str(exc)) from None
