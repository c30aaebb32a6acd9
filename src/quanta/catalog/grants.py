"""Catalog grants: access given by a platform admin (and, later, by approved access requests),
applied by the decision point next to the grants a product's spec declares. Every change bumps
the access generation in the same transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, insert, or_, select, update

from quanta.catalog.access import bump_generation
from quanta.catalog.database import database_now, maybe_aware
from quanta.catalog.records import GrantRecord
from quanta.catalog.tables import access_grants

SOURCES = ("admin", "request")


class Grants:
    """Grants kept in the catalog."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, grant: GrantRecord) -> GrantRecord:
        """Record a grant (validated by the caller against the product's published spec)."""
        if (grant.role is None) == (grant.principal_id is None):
            raise ValueError("a grant names exactly one of role or principal")
        if grant.source not in SOURCES:
            raise ValueError(f"a grant's source is one of {', '.join(SOURCES)}, not '{grant.source}'")
        with self._engine.begin() as connection:
            values = {
                "product": grant.product,
                "major": grant.major,
                "role": grant.role,
                "principal_id": grant.principal_id,
                "ports": list(grant.ports),
                "row_filter": grant.row_filter,
                "unmask": list(grant.unmask),
                "masks": dict(grant.masks),
                "purpose": grant.purpose,
                "expires": grant.expires,
                "source": grant.source,
                "granted_by": grant.granted_by,
                "granted_at": database_now(connection),
            }
            inserted = connection.execute(insert(access_grants).values(**values)).inserted_primary_key
            assert inserted is not None
            grant_id = inserted[0]
            bump_generation(connection)
        found = self.get(int(grant_id))
        assert found is not None
        return found

    def get(self, grant_id: int) -> GrantRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(access_grants).where(access_grants.c.id == grant_id)).first()
        return _grant(row) if row is not None else None

    def revoke(self, grant_id: int, by: str) -> bool:
        """Revoke a grant (kept, for the record); False when unknown or already revoked."""
        with self._engine.begin() as connection:
            result = connection.execute(
                update(access_grants)
                .where(access_grants.c.id == grant_id, access_grants.c.revoked_at.is_(None))
                .values(revoked_at=database_now(connection), revoked_by=by)
            )
            if result.rowcount == 0:
                return False
            bump_generation(connection)
            return True

    def active(self, today: date | None = None) -> list[GrantRecord]:
        """Every grant neither revoked nor expired (expiring after ``today``'s end), oldest first."""
        query = select(access_grants).where(access_grants.c.revoked_at.is_(None))
        if today is not None:
            query = query.where(or_(access_grants.c.expires.is_(None), access_grants.c.expires >= today))
        with self._engine.connect() as connection:
            return [_grant(r) for r in connection.execute(query.order_by(access_grants.c.id))]

    def all(self, product: str | None = None) -> list[GrantRecord]:
        """Every grant ever given (revoked ones too), optionally of one product, oldest first."""
        query = select(access_grants).order_by(access_grants.c.id)
        if product is not None:
            query = query.where(access_grants.c.product == product)
        with self._engine.connect() as connection:
            return [_grant(r) for r in connection.execute(query)]


def _grant(row: Any) -> GrantRecord:
    return GrantRecord(
        product=row.product,
        ports=tuple(row.ports or ()),
        role=row.role,
        principal_id=row.principal_id,
        row_filter=row.row_filter,
        unmask=tuple(row.unmask or ()),
        masks={str(k): str(v) for k, v in (row.masks or {}).items()},
        purpose=row.purpose,
        expires=row.expires,
        major=row.major,
        source=row.source,
        granted_by=row.granted_by,
        id=int(row.id),
        granted_at=maybe_aware(row.granted_at),
        revoked_at=maybe_aware(row.revoked_at),
        revoked_by=row.revoked_by,
    )
