"""Snapshots and the current pointers: which snapshot consumers read now, and history for time travel."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from quanta.catalog.database import aware, maybe_aware, naive, upsert
from quanta.catalog.records import SnapshotRecord
from quanta.catalog.tables import build_steps, current, lineage, report_renders, snapshots


class Snapshots:
    """Snapshot records by id and product, and the one current pointer per product."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def current(self, product_key: str) -> SnapshotRecord | None:
        """The published snapshot consumers read now, or None."""
        query = (
            select(snapshots)
            .join(current, current.c.snapshot_id == snapshots.c.id)
            .where(current.c.product_key == product_key)
        )
        return self._one(query)

    def current_all(self) -> dict[str, SnapshotRecord]:
        query = select(snapshots).join(current, current.c.snapshot_id == snapshots.c.id)
        with self._engine.connect() as connection:
            return {row.product_key: _snapshot(row) for row in connection.execute(query)}

    def get(self, snapshot_id: str) -> SnapshotRecord | None:
        return self._one(select(snapshots).where(snapshots.c.id == snapshot_id))

    def as_of(self, product_key: str, moment: datetime) -> SnapshotRecord | None:
        """The snapshot that was current at ``moment`` (the last one published at or before it)."""
        query = (
            select(snapshots)
            .where(
                snapshots.c.product_key == product_key,
                snapshots.c.status == "published",
                snapshots.c.published_at <= naive(moment),
            )
            .order_by(snapshots.c.published_at.desc(), snapshots.c.id.desc())
            .limit(1)
        )
        return self._one(query)

    def list(self, product_key: str | None = None) -> list[SnapshotRecord]:
        """Snapshots, newest first."""
        query = select(snapshots).order_by(snapshots.c.created_at.desc(), snapshots.c.id.desc())
        if product_key is not None:
            query = query.where(snapshots.c.product_key == product_key)
        with self._engine.connect() as connection:
            return [_snapshot(row) for row in connection.execute(query)]

    def ids(self) -> set[str]:
        with self._engine.connect() as connection:
            return set(connection.execute(select(snapshots.c.id)).scalars())

    def published_before(self, snapshot: SnapshotRecord) -> SnapshotRecord | None:
        """The snapshot of the same product published just before ``snapshot``."""
        if snapshot.published_at is None:
            return None
        moment = naive(snapshot.published_at)
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
        return self._one(query)

    def last_published(self, product_key: str) -> SnapshotRecord | None:
        query = (
            select(snapshots)
            .where(snapshots.c.product_key == product_key, snapshots.c.status == "published")
            .order_by(snapshots.c.published_at.desc(), snapshots.c.id.desc())
            .limit(1)
        )
        return self._one(query)

    def first_published(self, product_key: str) -> datetime | None:
        """When the product was first published, even if gc has deleted that snapshot since (its
        build step is kept)."""
        with self._engine.connect() as connection:
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
        moments = [aware(m) for m in (snapshot, step) if m is not None]
        return min(moments) if moments else None

    # ---------------------------------------------------------------- writes (in the caller's transaction)

    @staticmethod
    def insert(connection: Connection, record: SnapshotRecord, published_at: datetime | None) -> None:
        values = asdict(record)
        values["created_at"] = naive(record.created_at)
        values["published_at"] = published_at
        connection.execute(snapshots.insert().values(**values))

    @staticmethod
    def move_current(connection: Connection, product_key: str, snapshot_id: str, now: datetime) -> None:
        """Point ``product_key`` at ``snapshot_id`` (an atomic upsert: concurrent publishers never collide)."""
        values = {"snapshot_id": snapshot_id, "published_at": now}
        upsert(connection, current, {"product_key": product_key, **values}, ["product_key"], update=values)

    def delete(self, snapshot_id: str) -> None:
        """Forget a snapshot that is not current (gc), with the reports rendered from it; refuses the current one."""
        with self._engine.begin() as connection:
            if connection.execute(select(current.c.product_key).where(current.c.snapshot_id == snapshot_id)).first():
                raise ValueError(f"snapshot {snapshot_id} is current and cannot be deleted")
            connection.execute(delete(lineage).where(lineage.c.snapshot_id == snapshot_id))
            used = (report_renders.c.snapshot_id == snapshot_id) | (report_renders.c.previous_id == snapshot_id)
            connection.execute(delete(report_renders).where(used))  # reports show its data
            connection.execute(delete(snapshots).where(snapshots.c.id == snapshot_id))

    def _one(self, query: Any) -> SnapshotRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return _snapshot(row) if row is not None else None


def _snapshot(row: Any) -> SnapshotRecord:
    return SnapshotRecord(
        id=row.id,
        product_key=row.product_key,
        version=row.version,
        build_id=row.build_id,
        status=row.status,
        created_at=aware(row.created_at),
        published_at=maybe_aware(row.published_at),
        rows=row.rows,
        bytes=row.bytes,
        content_hash=row.content_hash,
        spec_fingerprint=row.spec_fingerprint,
        code_fingerprint=row.code_fingerprint,
        inputs_fingerprint=row.inputs_fingerprint,
        schema=row.schema,
        descriptor_id=row.descriptor_id,
    )
