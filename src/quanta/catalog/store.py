"""``Catalog``: products, snapshots, the current pointers, lineage, build runs and file hashes."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, select, update
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError, OperationalError

from quanta import faults
from quanta.catalog import migrate
from quanta.catalog.tables import (
    build_runs,
    build_steps,
    code_digests,
    current,
    file_hashes,
    lineage,
    products,
    slis,
    snapshots,
)
from quanta.errors import QuantaError


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot as the catalog knows it."""

    id: str
    product_key: str
    version: str
    build_id: str
    status: str
    created_at: datetime
    published_at: datetime | None
    rows: int
    bytes: int
    content_hash: str
    spec_fingerprint: str
    code_fingerprint: str
    inputs_fingerprint: str
    schema: list[dict[str, Any]]


@dataclass(frozen=True)
class LineageRecord:
    """One input of a snapshot: the upstream snapshot or the source it was read from."""

    input_id: str
    input_type: str
    fingerprint: str
    upstream_key: str | None = None
    upstream_snapshot_id: str | None = None
    system: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class StepRecord:
    """What a build run did with one product."""

    run_id: str
    product_key: str
    status: str
    reasons: list[str]
    started_at: datetime
    duration_s: float
    rows: int | None = None
    snapshot_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SliRecord:
    """One measured indicator: a check's outcome on a snapshot at a time."""

    check_id: str
    status: str
    observed: float | None
    operator: str
    limit: float
    blocking: bool
    measured_at: datetime
    message: str | None = None
    snapshot_id: str | None = None


@dataclass(frozen=True)
class ProductEntry:
    key: str
    ref: str
    domain: str
    name: str
    major: int
    version: str
    description: str | None = None


@dataclass
class Catalog:
    """A catalog database (SQLite or PostgreSQL) reached through one SQLAlchemy engine."""

    url: str
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = _engine(self.url)
        migrate.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- snapshots

    def current(self, product_key: str) -> SnapshotRecord | None:
        """The published snapshot consumers read now, or None."""
        query = (
            select(snapshots)
            .join(current, current.c.snapshot_id == snapshots.c.id)
            .where(current.c.product_key == product_key)
        )
        return self._one_snapshot(query)

    def current_all(self) -> dict[str, SnapshotRecord]:
        query = select(snapshots).join(current, current.c.snapshot_id == snapshots.c.id)
        with self.engine.connect() as connection:
            return {row.product_key: _snapshot(row) for row in connection.execute(query)}

    def snapshot(self, snapshot_id: str) -> SnapshotRecord | None:
        return self._one_snapshot(select(snapshots).where(snapshots.c.id == snapshot_id))

    def snapshot_as_of(self, product_key: str, moment: datetime) -> SnapshotRecord | None:
        """The snapshot that was current at ``moment`` (the last one published at or before it)."""
        query = (
            select(snapshots)
            .where(
                snapshots.c.product_key == product_key,
                snapshots.c.status == "published",
                snapshots.c.published_at <= _naive(moment),
            )
            .order_by(snapshots.c.published_at.desc(), snapshots.c.id.desc())
            .limit(1)
        )
        return self._one_snapshot(query)

    def snapshots(self, product_key: str | None = None) -> list[SnapshotRecord]:
        """Snapshots, newest first."""
        query = select(snapshots).order_by(snapshots.c.created_at.desc(), snapshots.c.id.desc())
        if product_key is not None:
            query = query.where(snapshots.c.product_key == product_key)
        with self.engine.connect() as connection:
            return [_snapshot(row) for row in connection.execute(query)]

    def published_before(self, snapshot: SnapshotRecord) -> SnapshotRecord | None:
        """The snapshot of the same product published just before ``snapshot``."""
        if snapshot.published_at is None:
            return None
        moment = _naive(snapshot.published_at)
        query = (
            select(snapshots)
            .where(
                snapshots.c.product_key == snapshot.product_key,
                snapshots.c.status == "published",
                snapshots.c.id != snapshot.id,
                (snapshots.c.published_at < moment)
                | ((snapshots.c.published_at == moment) & (snapshots.c.id < snapshot.id)),
            )
            .order_by(snapshots.c.published_at.desc(), snapshots.c.id.desc())
            .limit(1)
        )
        return self._one_snapshot(query)

    def last_published(self, product_key: str) -> SnapshotRecord | None:
        query = (
            select(snapshots)
            .where(snapshots.c.product_key == product_key, snapshots.c.status == "published")
            .order_by(snapshots.c.published_at.desc(), snapshots.c.id.desc())
            .limit(1)
        )
        return self._one_snapshot(query)

    def publish(
        self,
        product: ProductEntry,
        record: SnapshotRecord,
        inputs: Sequence[LineageRecord],
        *,
        make_current: bool = True,
    ) -> None:
        """Register a complete snapshot and its lineage and, if asked, move the current pointer:
        all in one transaction."""
        now = _naive(datetime.now(UTC))
        faults.checkpoint(faults.BEFORE_CATALOG_COMMIT)
        with self.engine.begin() as connection:
            self._upsert_product(connection, product, now)
            values = _snapshot_values(record)
            values["published_at"] = now if make_current else None
            connection.execute(insert(snapshots).values(**values))
            if inputs:
                connection.execute(insert(lineage), [{"snapshot_id": record.id, **asdict(i)} for i in inputs])
            if make_current:
                moved = connection.execute(
                    update(current)
                    .where(current.c.product_key == product.key)
                    .values(snapshot_id=record.id, published_at=now)
                )
                if moved.rowcount == 0:
                    connection.execute(
                        insert(current).values(product_key=product.key, snapshot_id=record.id, published_at=now)
                    )
            faults.checkpoint(faults.DURING_CATALOG_COMMIT)

    def lineage(self, snapshot_id: str) -> list[LineageRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(lineage).where(lineage.c.snapshot_id == snapshot_id).order_by(lineage.c.input_id)
            )
            return [
                LineageRecord(
                    r.input_id, r.input_type, r.fingerprint, r.upstream_key, r.upstream_snapshot_id, r.system, r.source
                )
                for r in rows
            ]

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Forget a snapshot that is not current (gc); refuses the current one."""
        with self.engine.begin() as connection:
            if connection.execute(select(current.c.product_key).where(current.c.snapshot_id == snapshot_id)).first():
                raise ValueError(f"snapshot {snapshot_id} is current and cannot be deleted")
            connection.execute(delete(lineage).where(lineage.c.snapshot_id == snapshot_id))
            connection.execute(delete(snapshots).where(snapshots.c.id == snapshot_id))

    def landed_fingerprints(self) -> set[str]:
        """Content fingerprints of the raw (landed) inputs that snapshots still record in their lineage."""
        with self.engine.connect() as connection:
            query = select(lineage.c.fingerprint).where(lineage.c.input_type == "api").distinct()
            return set(connection.execute(query).scalars())

    def known_snapshot_ids(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.execute(select(snapshots.c.id)).scalars())

    # ---------------------------------------------------------------- products

    def products(self) -> list[ProductEntry]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(products).order_by(products.c.key))
            return [ProductEntry(r.key, r.ref, r.domain, r.name, r.major, r.version, r.description) for r in rows]

    # ---------------------------------------------------------------- build runs

    def start_run(self, run_id: str, who: str, arguments: list[str]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(build_runs).values(
                    id=run_id,
                    started_at=_naive(datetime.now(UTC)),
                    status="running",
                    who=who,
                    arguments=json.dumps(arguments),
                )
            )

    def finish_run(self, run_id: str, status: str, duration_s: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(build_runs)
                .where(build_runs.c.id == run_id)
                .values(status=status, finished_at=_naive(datetime.now(UTC)), duration_s=duration_s)
            )

    def record_step(self, step: StepRecord) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(build_steps).values(
                    run_id=step.run_id,
                    product_key=step.product_key,
                    status=step.status,
                    reasons=json.dumps(step.reasons),
                    started_at=_naive(step.started_at),
                    duration_s=step.duration_s,
                    rows=step.rows,
                    snapshot_id=step.snapshot_id,
                    error=step.error,
                )
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(build_runs).order_by(build_runs.c.started_at.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

    def steps(self, run_id: str | None = None, product_key: str | None = None) -> list[StepRecord]:
        query = select(build_steps).order_by(build_steps.c.started_at.desc(), build_steps.c.id.desc())
        if run_id is not None:
            query = query.where(build_steps.c.run_id == run_id)
        if product_key is not None:
            query = query.where(build_steps.c.product_key == product_key)
        with self.engine.connect() as connection:
            return [
                StepRecord(
                    r.run_id,
                    r.product_key,
                    r.status,
                    json.loads(r.reasons),
                    _aware(r.started_at),
                    r.duration_s,
                    r.rows,
                    r.snapshot_id,
                    r.error,
                )
                for r in connection.execute(query)
            ]

    def first_published(self, product_key: str) -> datetime | None:
        """When the product was first published, even if gc has deleted that snapshot since (its
        build step is kept)."""
        from sqlalchemy import func

        with self.engine.connect() as connection:
            snapshot = connection.execute(
                select(func.min(snapshots.c.published_at)).where(
                    snapshots.c.product_key == product_key, snapshots.c.status == "published"
                )
            ).scalar()
            step = connection.execute(
                select(func.min(build_steps.c.started_at)).where(
                    build_steps.c.product_key == product_key,
                    build_steps.c.status.in_(["built", "unchanged"]),
                    build_steps.c.snapshot_id.is_not(None),
                )
            ).scalar()
        moments = [_aware(m) for m in (snapshot, step) if m is not None]
        return min(moments) if moments else None

    def last_attempt(self, product_key: str) -> StepRecord | None:
        """The newest step that built or tried to build the product."""
        for step in self.steps(product_key=product_key):
            if step.status in ("built", "unchanged", "failed"):
                return step
        return None

    # ---------------------------------------------------------------- file hash cache

    def cached_hashes(self, paths: Sequence[str]) -> dict[str, tuple[int, int, str]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(file_hashes).where(file_hashes.c.path.in_(list(paths))))
            return {r.path: (r.size, r.mtime_ns, r.sha256) for r in rows}

    def store_hashes(self, entries: dict[str, tuple[int, int, str]]) -> None:
        if not entries:
            return
        with self.engine.begin() as connection:
            connection.execute(delete(file_hashes).where(file_hashes.c.path.in_(list(entries))))
            connection.execute(
                insert(file_hashes),
                [{"path": p, "size": s, "mtime_ns": m, "sha256": h} for p, (s, m, h) in entries.items()],
            )

    def store_slis(self, product_key: str, snapshot_id: str | None, measurements: Sequence[SliRecord]) -> None:
        """Record measured indicators (one row per check) in one transaction."""
        if not measurements:
            return
        with self.engine.begin() as connection:
            connection.execute(
                insert(slis),
                [
                    {
                        "product_key": product_key,
                        "snapshot_id": snapshot_id,
                        "check_id": m.check_id,
                        "status": m.status,
                        "observed": m.observed,
                        "operator": m.operator,
                        "limit": m.limit,
                        "blocking": m.blocking,
                        "measured_at": _naive(m.measured_at),
                        "message": m.message,
                    }
                    for m in measurements
                ],
            )

    def slis(self, product_key: str, snapshot_id: str | None = None) -> list[SliRecord]:
        """Indicators of a product (or one snapshot), oldest first."""
        query = select(slis).where(slis.c.product_key == product_key).order_by(slis.c.measured_at, slis.c.id)
        if snapshot_id is not None:
            query = query.where(slis.c.snapshot_id == snapshot_id)
        with self.engine.connect() as connection:
            return [
                SliRecord(
                    r.check_id,
                    r.status,
                    r.observed,
                    r.operator,
                    r.limit,
                    r.blocking,
                    _aware(r.measured_at),
                    r.message,
                    r.snapshot_id,
                )
                for r in connection.execute(query)
            ]

    def code_digest(self, raw_sha256: str) -> str | None:
        """The normalised digest remembered for code with this raw digest, if any."""
        with self.engine.connect() as connection:
            return connection.execute(
                select(code_digests.c.normalised_sha256).where(code_digests.c.raw_sha256 == raw_sha256)
            ).scalar()

    def store_code_digest(self, raw_sha256: str, normalised_sha256: str) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(code_digests).values(raw_sha256=raw_sha256, normalised_sha256=normalised_sha256)
                )
        except IntegrityError:
            pass  # remembered already (by a concurrent build of identical code): same value

    # ---------------------------------------------------------------- helpers

    def _one_snapshot(self, query: Any) -> SnapshotRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return _snapshot(row) if row is not None else None

    @staticmethod
    def _upsert_product(connection: Connection, product: ProductEntry, now: datetime) -> None:
        values = {
            "ref": product.ref,
            "domain": product.domain,
            "name": product.name,
            "major": product.major,
            "version": product.version,
            "description": product.description,
            "updated_at": now,
        }
        changed = connection.execute(update(products).where(products.c.key == product.key).values(**values))
        if changed.rowcount == 0:
            connection.execute(insert(products).values(key=product.key, **values))


@contextmanager
def open_catalog(url: str) -> Iterator[Catalog]:
    catalog = Catalog(url)
    try:
        yield catalog
    finally:
        catalog.close()


class CatalogUnavailable(QuantaError):
    """The catalog database cannot be read or written (I/O, locking, connection): not a bug."""


def _engine(url: str) -> Engine:
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


def _unavailable(context: ExceptionContext) -> None:
    """Operational database failures become a clear error naming the catalog (password hidden)."""
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, OperationalError):
        return
    where = context.engine.url.render_as_string(hide_password=True) if context.engine else "catalog"
    reason = str(context.original_exception).strip().splitlines()[0]
    raise CatalogUnavailable(f"the catalog {where} cannot be used: {reason}") from context.original_exception


def _naive(moment: datetime) -> datetime:
    """UTC without tzinfo: how timestamps are stored, identically on SQLite and PostgreSQL."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment.replace(tzinfo=UTC)


def _snapshot(row: Any) -> SnapshotRecord:
    return SnapshotRecord(
        id=row.id,
        product_key=row.product_key,
        version=row.version,
        build_id=row.build_id,
        status=row.status,
        created_at=_aware(row.created_at),
        published_at=_aware(row.published_at) if row.published_at else None,
        rows=row.rows,
        bytes=row.bytes,
        content_hash=row.content_hash,
        spec_fingerprint=row.spec_fingerprint,
        code_fingerprint=row.code_fingerprint,
        inputs_fingerprint=row.inputs_fingerprint,
        schema=row.schema,
    )


def _snapshot_values(record: SnapshotRecord) -> dict[str, Any]:
    """Column values of a snapshot row (the publication time is set by :meth:`Catalog.publish`)."""
    values = asdict(record)
    values["created_at"] = _naive(record.created_at)
    del values["published_at"]
    return values
