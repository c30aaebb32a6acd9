"""The catalog's database: one SQLAlchemy engine (SQLite or PostgreSQL), its clock and upserts.

Everything dialect-specific of the catalog lives here, so the stores read the same on both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Table, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError

from quanta.errors import QuantaError


class CatalogUnavailable(QuantaError):
    """The catalog database cannot be read or written (I/O, locking, connection): not a bug."""


def create_catalog_engine(url: str) -> Engine:
    """An engine for a catalog URL (``sqlite:///…`` or ``postgresql://…``), with operational failures
    turned into :class:`CatalogUnavailable`."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "handle_error", _unavailable)
    return engine


def shown_url(engine: Engine) -> str:
    """The engine's URL with any password hidden."""
    return engine.url.render_as_string(hide_password=True)


def _unavailable(context: ExceptionContext) -> None:
    """Operational database failures become a clear error naming the catalog (password hidden)."""
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, OperationalError):
        return
    where = shown_url(context.engine) if context.engine else "catalog"
    reason = str(context.original_exception).strip().splitlines()[0]
    raise CatalogUnavailable(f"the catalog {where} cannot be used: {reason}") from context.original_exception


def database_now(connection: Connection) -> datetime:
    """The database's clock (UTC, naive, microseconds): publish times and leases never trust the client's."""
    if connection.dialect.name == "postgresql":
        value = connection.execute(text("SELECT timezone('utc', clock_timestamp())")).scalar()
        assert isinstance(value, datetime)
        return value.replace(tzinfo=None)
    value = connection.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar()
    return datetime.fromisoformat(str(value))


def upsert(
    connection: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: list[str],
    update: Mapping[str, Any] | None = None,
    where: Any = None,
) -> CursorResult[Any]:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` (``update`` None) or ``DO UPDATE SET update [WHERE
    where]``: atomic under concurrent writers on both dialects."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    statement = dialect.insert(table).values(**values)
    if update is None:
        return connection.execute(statement.on_conflict_do_nothing(index_elements=keys))
    return connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=dict(update), where=where))


def naive(moment: datetime) -> datetime:
    """UTC without tzinfo: how timestamps are stored, identically on SQLite and PostgreSQL."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def aware(moment: datetime) -> datetime:
    """A stored (naive UTC) timestamp as an aware one."""
    return moment.replace(tzinfo=UTC)


def maybe_aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None
