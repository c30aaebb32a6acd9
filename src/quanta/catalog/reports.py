"""The report store: rendered reports kept with the snapshots they used, and the claims of
scheduled ticks.

A rendering is keyed by its *fingerprint* (the template's descriptor and what the reader saw:
the secured reads of the current and previous snapshot) and format, so equal readers of one
snapshot share one rendering, and two processes rendering it at once keep one. A rendering goes
with its snapshot when gc removes the snapshot (a foreign key, ``ON DELETE CASCADE``).

A scheduled tick is claimed with ``INSERT … ON CONFLICT DO NOTHING`` on (product, port, tick):
exactly one process renders it, whatever the number of servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from quanta.catalog.database import aware, database_now, maybe_aware, naive, upsert
from quanta.catalog.tables import report_renders, report_ticks

TRIGGERS = ("on-demand", "schedule")


@dataclass(frozen=True)
class ReportRender:
    """One rendered report and what it was made from."""

    product_key: str
    port: str
    snapshot_id: str
    previous_id: str | None
    descriptor_id: str | None
    format: str
    fingerprint: str
    principal: str
    """Who it was rendered as (a scheduled one: the product's owning team)."""
    trigger: str
    sha256: str
    content: bytes
    tick: datetime | None = None
    id: int | None = None
    rendered_at: datetime | None = None


@dataclass(frozen=True)
class TickClaim:
    """A scheduled tick of a report port and the process that claimed it."""

    product_key: str
    port: str
    tick: datetime
    claimed_by: str
    claimed_at: datetime
    finished_at: datetime | None
    renders: tuple[int, ...]
    error: str | None


class Reports:
    """Rendered reports and tick claims."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def now(self) -> datetime:
        """The database's clock (aware UTC): every process judges ticks by the same clock."""
        with self._engine.connect() as connection:
            return aware(database_now(connection))

    # ---------------------------------------------------------------- renderings

    def find(self, fingerprint: str, file_format: str) -> ReportRender | None:
        """The rendering kept for this fingerprint and format, if any."""
        query = select(report_renders).where(
            report_renders.c.fingerprint == fingerprint, report_renders.c.format == file_format
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return _render(row) if row is not None else None

    def keep(self, render: ReportRender) -> ReportRender:
        """Keep a rendering (once per fingerprint and format: a concurrent equal one wins and is
        returned instead)."""
        if render.trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {render.trigger!r}")
        with self._engine.begin() as connection:
            values: dict[str, Any] = {
                "product_key": render.product_key,
                "port": render.port,
                "snapshot_id": render.snapshot_id,
                "previous_id": render.previous_id,
                "descriptor_id": render.descriptor_id,
                "format": render.format,
                "fingerprint": render.fingerprint,
                "principal": render.principal,
                "trigger": render.trigger,
                "tick": naive(render.tick) if render.tick else None,
                "sha256": render.sha256,
                "bytes": len(render.content),
                "content": render.content,
                "rendered_at": database_now(connection),
            }
            upsert(connection, report_renders, values, ["fingerprint", "format"])
        found = self.find(render.fingerprint, render.format)
        assert found is not None
        return found

    def renders(self, product_key: str | None = None, port: str | None = None) -> list[ReportRender]:
        """Renderings, newest first (content included)."""
        query = select(report_renders).order_by(report_renders.c.id.desc())
        if product_key is not None:
            query = query.where(report_renders.c.product_key == product_key)
        if port is not None:
            query = query.where(report_renders.c.port == port)
        with self._engine.connect() as connection:
            return [_render(r) for r in connection.execute(query)]

    # ---------------------------------------------------------------- scheduled ticks

    def claim_tick(self, product_key: str, port: str, tick: datetime, by: str) -> bool:
        """Claim the rendering of ``tick`` for ``by`` (unique per process); False when another
        process claimed it first."""
        with self._engine.begin() as connection:
            values = {
                "product_key": product_key,
                "port": port,
                "tick": naive(tick),
                "claimed_by": by,
                "claimed_at": database_now(connection),
                "renders": [],
            }
            upsert(connection, report_ticks, values, ["product_key", "port", "tick"])
            c = report_ticks.c
            holder = connection.execute(
                select(c.claimed_by).where(c.product_key == product_key, c.port == port, c.tick == naive(tick))
            ).scalar()
        return bool(holder == by)  # the rowcount of ON CONFLICT DO NOTHING is not reliable on every driver

    def finish_tick(
        self, product_key: str, port: str, tick: datetime, renders: list[int], error: str | None = None
    ) -> None:
        """Record what a claimed tick rendered (or why it failed)."""
        c = report_ticks.c
        with self._engine.begin() as connection:
            connection.execute(
                update(report_ticks)
                .where(c.product_key == product_key, c.port == port, c.tick == naive(tick))
                .values(finished_at=database_now(connection), renders=list(renders), error=error)
            )

    def ticks(self, product_key: str | None = None, port: str | None = None) -> list[TickClaim]:
        """Claimed ticks, oldest first."""
        query = select(report_ticks).order_by(report_ticks.c.tick, report_ticks.c.product_key, report_ticks.c.port)
        if product_key is not None:
            query = query.where(report_ticks.c.product_key == product_key)
        if port is not None:
            query = query.where(report_ticks.c.port == port)
        with self._engine.connect() as connection:
            return [_tick(r) for r in connection.execute(query)]


def _render(row: Any) -> ReportRender:
    return ReportRender(
        product_key=row.product_key,
        port=row.port,
        snapshot_id=row.snapshot_id,
        previous_id=row.previous_id,
        descriptor_id=row.descriptor_id,
        format=row.format,
        fingerprint=row.fingerprint,
        principal=row.principal,
        trigger=row.trigger,
        sha256=row.sha256,
        content=bytes(row.content),
        tick=maybe_aware(row.tick),
        id=int(row.id),
        rendered_at=maybe_aware(row.rendered_at),
    )


def _tick(row: Any) -> TickClaim:
    return TickClaim(
        product_key=row.product_key,
        port=row.port,
        tick=aware(row.tick),
        claimed_by=row.claimed_by,
        claimed_at=aware(row.claimed_at),
        finished_at=maybe_aware(row.finished_at),
        renders=tuple(int(r) for r in row.renders or ()),
        error=row.error,
    )
