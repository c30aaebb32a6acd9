"""Build runs with heartbeat leases, their steps, and per-product build claims.

A running build renews its lease every quarter of the lease time; a run still marked ``running``
whose lease expired (its process was killed) reads as ``abandoned``. A product is built by one run
at a time: a run claims it before deciding, and a claim held by a live run makes others wait.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from quanta.catalog.database import aware, database_now, maybe_aware, naive, upsert
from quanta.catalog.records import RunRecord, StepRecord
from quanta.catalog.tables import build_claims, build_runs, build_steps

DEFAULT_LEASE_S = 60.0


class Runs:
    """Build runs, their steps and the claims of products being built."""

    def __init__(self, engine: Engine, lease_s: float = DEFAULT_LEASE_S) -> None:
        self._engine = engine
        self.lease = timedelta(seconds=lease_s)

    # ---------------------------------------------------------------- runs and leases

    def start(self, run_id: str, who: str, arguments: list[str], mesh: str | None = None) -> None:
        with self._engine.begin() as connection:
            now = database_now(connection)
            connection.execute(
                insert(build_runs).values(
                    id=run_id,
                    started_at=now,
                    status="running",
                    who=who,
                    arguments=json.dumps(arguments),
                    mesh=mesh,
                    lease_expires_at=now + self.lease,
                )
            )

    def renew(self, run_id: str) -> bool:
        """Extend a running run's lease; False when the run is no longer running."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            changed = connection.execute(
                update(build_runs)
                .where(build_runs.c.id == run_id, build_runs.c.status == "running")
                .values(lease_expires_at=now + self.lease)
            )
            return changed.rowcount == 1

    @contextmanager
    def heartbeat(self, run_id: str) -> Iterator[None]:
        """Renew ``run_id``'s lease in the background while the block runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease.total_seconds() / 4):
                with suppress(Exception):  # a missed beat is retried; the lease outlives three
                    self.renew(run_id)

        thread = threading.Thread(target=beat, name=f"lease-{run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def finish(self, run_id: str, status: str, duration_s: float) -> None:
        with self._engine.begin() as connection:
            now = database_now(connection)
            connection.execute(
                update(build_runs)
                .where(build_runs.c.id == run_id)
                .values(status=status, finished_at=now, duration_s=duration_s, lease_expires_at=None)
            )
            connection.execute(delete(build_claims).where(build_claims.c.run_id == run_id))

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The newest runs; a running one whose lease expired is ``abandoned``."""
        with self._engine.connect() as connection:
            now = database_now(connection)
            rows = connection.execute(
                select(build_runs).order_by(build_runs.c.started_at.desc(), build_runs.c.id.desc()).limit(limit)
            )
            return [_run(r, now) for r in rows]

    def run(self, run_id: str) -> RunRecord | None:
        with self._engine.connect() as connection:
            now = database_now(connection)
            row = connection.execute(select(build_runs).where(build_runs.c.id == run_id)).first()
            return _run(row, now) if row is not None else None

    def live(self) -> list[RunRecord]:
        """Runs whose lease has not expired (what gc must not race)."""
        with self._engine.connect() as connection:
            now = database_now(connection)
            rows = connection.execute(
                select(build_runs).where(build_runs.c.status == "running", build_runs.c.lease_expires_at > now)
            )
            return [_run(r, now) for r in rows]

    # ---------------------------------------------------------------- claims

    def claim(self, product_key: str, run_id: str) -> str | None:
        """Claim ``product_key`` for ``run_id``; None when claimed, else the live run holding it."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            live = select(build_runs.c.id).where(build_runs.c.status == "running", build_runs.c.lease_expires_at > now)
            values = {"run_id": run_id, "claimed_at": now}
            free = or_(build_claims.c.run_id == run_id, build_claims.c.run_id.not_in(live))
            upsert(connection, build_claims, {"product_key": product_key, **values}, ["product_key"], values, free)
            holder = connection.execute(
                select(build_claims.c.run_id).where(build_claims.c.product_key == product_key)
            ).scalar()
        return None if holder == run_id else holder

    def release(self, product_key: str, run_id: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                delete(build_claims).where(build_claims.c.product_key == product_key, build_claims.c.run_id == run_id)
            )

    # ---------------------------------------------------------------- steps

    def record_step(self, step: StepRecord) -> None:
        self.record_steps([step])

    def record_steps(self, steps: Sequence[StepRecord]) -> None:
        """Record what a run did with some products, in one transaction."""
        if not steps:
            return
        rows = [
            {
                "run_id": step.run_id,
                "product_key": step.product_key,
                "status": step.status,
                "reasons": json.dumps(step.reasons),
                "started_at": naive(step.started_at),
                "duration_s": step.duration_s,
                "rows": step.rows,
                "snapshot_id": step.snapshot_id,
                "error": step.error,
            }
            for step in steps
        ]
        with self._engine.begin() as connection:
            connection.execute(insert(build_steps), rows)

    def steps(self, run_id: str | None = None, product_key: str | None = None) -> list[StepRecord]:
        query = select(build_steps).order_by(build_steps.c.started_at.desc(), build_steps.c.id.desc())
        if run_id is not None:
            query = query.where(build_steps.c.run_id == run_id)
        if product_key is not None:
            query = query.where(build_steps.c.product_key == product_key)
        with self._engine.connect() as connection:
            return [
                StepRecord(
                    r.run_id,
                    r.product_key,
                    r.status,
                    json.loads(r.reasons),
                    aware(r.started_at),
                    r.duration_s,
                    r.rows,
                    r.snapshot_id,
                    r.error,
                )
                for r in connection.execute(query)
            ]

    def typical_durations(self) -> dict[str, float]:
        """Each product's duration in its newest step that built (or tried to build) it: what a
        scheduler may expect of its next build."""
        latest = (
            select(func.max(build_steps.c.id).label("id"))
            .where(build_steps.c.status.in_(("built", "unchanged", "failed")))
            .group_by(build_steps.c.product_key)
            .subquery()
        )
        query = select(build_steps.c.product_key, build_steps.c.duration_s).join(
            latest, build_steps.c.id == latest.c.id
        )
        with self._engine.connect() as connection:
            return {row.product_key: float(row.duration_s) for row in connection.execute(query)}

    def last_attempt(self, product_key: str) -> StepRecord | None:
        """The newest step that built or tried to build the product."""
        for step in self.steps(product_key=product_key):
            if step.status in ("built", "unchanged", "failed"):
                return step
        return None


def _run(row: Any, now: datetime) -> RunRecord:
    status = row.status
    if status == "running" and (row.lease_expires_at is None or row.lease_expires_at <= now):
        status = "abandoned"
    return RunRecord(
        row.id,
        status,
        row.who,
        json.loads(row.arguments),
        aware(row.started_at),
        maybe_aware(row.finished_at),
        row.duration_s,
        row.mesh,
        maybe_aware(row.lease_expires_at),
    )
