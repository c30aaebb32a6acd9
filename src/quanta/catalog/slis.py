"""Service level indicators: every measurement of every check, with its snapshot and time."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, insert, select

from quanta.catalog.database import aware, naive
from quanta.catalog.records import SliRecord
from quanta.catalog.tables import slis


class Slis:
    """Measured indicators per product."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def store(self, product_key: str, snapshot_id: str | None, measurements: Sequence[SliRecord]) -> None:
        """Record measured indicators (one row per check) in one transaction."""
        if not measurements:
            return
        with self._engine.begin() as connection:
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
                        "measured_at": naive(m.measured_at),
                        "message": m.message,
                    }
                    for m in measurements
                ],
            )

    def of(self, product_key: str, snapshot_id: str | None = None) -> list[SliRecord]:
        """Indicators of a product (or one snapshot), oldest first."""
        query = select(slis).where(slis.c.product_key == product_key).order_by(slis.c.measured_at, slis.c.id)
        if snapshot_id is not None:
            query = query.where(slis.c.snapshot_id == snapshot_id)
        with self._engine.connect() as connection:
            return [
                SliRecord(
                    r.check_id,
                    r.status,
                    r.observed,
                    r.operator,
                    r.limit,
                    r.blocking,
                    aware(r.measured_at),
                    r.message,
                    r.snapshot_id,
                )
                for r in connection.execute(query)
            ]
