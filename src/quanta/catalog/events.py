"""The event store: request steps, grant changes, failed builds and SLO breaches, each with its
webhook delivery state. Deliveries are claimed with a lease, so several processes delivering from
one catalog send each event once (unless a sender dies mid-delivery: then at least once)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from quanta.catalog.database import database_now, maybe_aware, naive
from quanta.catalog.records import EventRecord
from quanta.catalog.tables import events


class Events:
    """Events kept in the catalog."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self, kind: str, subject: str, data: dict[str, Any], actor: str, connection: Connection | None = None
    ) -> int:
        """Record an event (in the caller's transaction when given); returns its id."""
        if connection is None:
            with self._engine.begin() as own:
                return self.record(kind, subject, data, actor, own)
        values = {"at": database_now(connection), "kind": kind, "subject": subject, "actor": actor, "data": data}
        inserted = connection.execute(insert(events).values(**values)).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def find(
        self, *, kind: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[EventRecord]:
        """Events oldest first, optionally of one kind (or kind prefix such as ``grant.``) or since a
        time; the last ``limit`` when given."""
        query = select(events)
        if kind is not None:
            query = query.where(events.c.kind.like(f"{kind}%") if kind.endswith(".") else events.c.kind == kind)
        if since is not None:
            query = query.where(events.c.at >= naive(since))
        query = query.order_by(events.c.id.desc() if limit is not None else events.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as connection:
            found = [_event(r) for r in connection.execute(query)]
        return found[::-1] if limit is not None else found

    def claim(self, limit: int, lease_s: float, max_age: timedelta) -> list[EventRecord]:
        """Lease up to ``limit`` events due for delivery (none delivered, abandoned, leased by another
        sender or waiting for a retry; none older than ``max_age``), oldest first."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            due = (
                select(events.c.id)
                .where(
                    events.c.delivered_at.is_(None),
                    events.c.abandoned_at.is_(None),
                    or_(events.c.next_attempt_at.is_(None), events.c.next_attempt_at <= now),
                    or_(events.c.claimed_until.is_(None), events.c.claimed_until < now),
                    events.c.at >= now - max_age,
                )
                .order_by(events.c.id)
                .limit(limit)
            )
            if connection.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = connection.execute(
                update(events)
                .where(events.c.id.in_(due.scalar_subquery()))
                .values(claimed_until=now + timedelta(seconds=lease_s), attempts=events.c.attempts + 1)
                .returning(*events.c)
            )
            return sorted((_event(r) for r in claimed), key=lambda e: e.id)

    def delivered(self, event_id: int) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(events)
                .where(events.c.id == event_id)
                .values(delivered_at=database_now(connection), claimed_until=None, last_error=None)
            )

    def failed(self, event_id: int, error: str, retry_in_s: float | None) -> None:
        """A delivery failed: retry after ``retry_in_s``, or give up (None)."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            values: dict[str, Any] = {"claimed_until": None, "last_error": error[:500]}
            if retry_in_s is None:
                values["abandoned_at"] = now
            else:
                values["next_attempt_at"] = now + timedelta(seconds=retry_in_s)
            connection.execute(update(events).where(events.c.id == event_id).values(**values))


def _event(row: Any) -> EventRecord:
    return EventRecord(
        id=int(row.id),
        at=maybe_aware(row.at) or row.at,
        kind=row.kind,
        subject=row.subject,
        actor=row.actor,
        data=dict(row.data or {}),
        attempts=int(row.attempts or 0),
        delivered_at=maybe_aware(row.delivered_at),
        abandoned_at=maybe_aware(row.abandoned_at),
        last_error=row.last_error,
    )
