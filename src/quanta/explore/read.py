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
from quanta.spec.loader import MeshSource, ProductSource
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

    product: ProductSource
    snapshot: SnapshotRecord
    files: tuple[str, ...]


def snapshot_for(
    catalog: Catalog, product: ProductSource, snapshot_id: str | None = None, as_of: datetime | None = None
) -> SnapshotRecord | None:
    """The current snapshot, a snapshot by id, or the one that was current at ``as_of``."""
    key = product.spec.key
    if snapshot_id is not None:
        record = catalog.snapshot(snapshot_id)
        if record is None or record.product_key != key:
            raise QueryError(f"{key} has no snapshot {snapshot_id}")
        return record
    if as_of is not None:
        return catalog.snapshot_as_of(key, as_of)
    return catalog.current(key)


def readable(
    catalog: Catalog,
    store: SnapshotStore,
    product: ProductSource,
    snapshot_id: str | None = None,
    as_of: datetime | None = None,
) -> Readable | None:
    record = snapshot_for(catalog, product, snapshot_id, as_of)
    if record is None:
        return None
    location = SnapshotLocation(product.spec.domain or "_", product.spec.name, product.spec.major)
    files = tuple(str(p) for p in store.data_files(location, record.id))
    return Readable(product, record, files)


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
    mesh: MeshSource,
    catalog: Catalog,
    store: SnapshotStore,
    sql: str,
    *,
    unmask: bool = False,
    as_of: datetime | None = None,
    limit: int | None = None,
) -> Any:
    """Run one read-only SELECT over current snapshots; products are tables ``<domain>.<product>``."""
    import duckdb

    statement = _parse_select(sql)
    connection = duckdb.connect(":memory:")
    try:
        for number, product in enumerate(mesh.products):
            target = readable(catalog, store, product, as_of=as_of)
            if target is None or not target.files:
                continue
            schema = _quoted(sql_identifier(product.spec.domain or "proposed"))
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            source = f"__snapshot_{number}"
            columns = [duckdb.SQLExpression(c) for c in masked_columns(target.snapshot, unmask)]
            connection.read_parquet(list(target.files)).select(*columns).create_view(source)
            for name in _names(product):
                connection.execute(f"CREATE OR REPLACE VIEW {schema}.{_quoted(name)} AS SELECT * FROM {source}")
        if limit is not None:
            statement = statement.limit(limit) if isinstance(statement, exp.Select) else statement
        try:
            text = statement.sql(dialect="duckdb")
            return interruptible(connection, lambda: connection.sql(text).to_arrow_table())
        except duckdb.Error as exc:
            raise QueryError(str(exc).strip().splitlines()[0]) from None
    finally:
        connection.close()


def _names(product: ProductSource) -> list[str]:
    table = sql_identifier(product.spec.name)
    return [table, f"{table}_v{product.spec.major}"]


def _quoted(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _parse_select(sql: str) -> exp.Query:
    from quanta.engines.sql import SqlRestrictionError, parse_select

    try:
        return parse_select(sql)
    except SqlRestrictionError as exc:
        raise QueryError(str(exc)) from None
