"""Lineage: what each snapshot was built from (upstream snapshots, sources and their fingerprints)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Connection, Engine, insert, select

from quanta.catalog.records import LineageRecord
from quanta.catalog.tables import lineage


class Lineage:
    """The inputs of every snapshot."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of(self, snapshot_id: str) -> list[LineageRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(lineage).where(lineage.c.snapshot_id == snapshot_id).order_by(lineage.c.input_id)
            )
            return [
                LineageRecord(
                    r.input_id, r.input_type, r.fingerprint, r.upstream_key, r.upstream_snapshot_id, r.system, r.source
                )
                for r in rows
            ]

    def landed_fingerprints(self) -> set[str]:
        """Content fingerprints of the raw (landed) inputs that snapshots still record in their lineage."""
        with self._engine.connect() as connection:
            query = select(lineage.c.fingerprint).where(lineage.c.input_type == "api").distinct()
            return set(connection.execute(query).scalars())

    @staticmethod
    def add(connection: Connection, snapshot_id: str, inputs: Sequence[LineageRecord]) -> None:
        if inputs:
            connection.execute(insert(lineage), [{"snapshot_id": snapshot_id, **asdict(i)} for i in inputs])
