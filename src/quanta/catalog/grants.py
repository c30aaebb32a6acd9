"""Catalog grants: access given by a platform admin (and, later, by approved access requests),
applied by the decision point next to the grants a product's spec declares. Every change bumps
the access generation in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from quanta.catalog.database import database_now, maybe_aware, naive
from quanta.catalog.records import GrantRecord
from quanta.catalog.tables import access_grants

if TYPE_CHECKING:
    from quanta.catalog.changes import Changes

SOURCES = ("admin", "request")


class Grants:
    """Grants kept in the catalog."""

    def __init__(self, engine: Engine, changes: Changes) -> None:
        self._engine = engine
        self._changes = changes

    def add(self, grant: GrantRecord) -> GrantRecord:
        """Record a grant (validated by the caller against the product's published spec)."""
        with self._engine.begin() as connection:
            grant_id = self.insert(connection, grant)
        found = self.get(grant_id)
        assert found is not None
        return found

    def insert(self, connection: Connection, grant: GrantRecord) -> int:
        """Record a grant in the caller's transaction (an approval's); returns its id."""
        if (grant.role is None) == (grant.principal_id is None):
            raise ValueError("a grant names exactly one of role or principal")
        if grant.source not in SOURCES:
            raise ValueError(f"a grant's source is one of {', '.join(SOURCES)}, not '{grant.source}'")
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
            "expires_at": naive(grant.expires_at) if grant.expires_at else None,
            "source": grant.source,
            "granted_by": grant.granted_by,
            "granted_at": database_now(connection),
            "request_id": grant.request_id,
        }
        inserted = connection.execute(insert(access_grants).values(**values)).inserted_primary_key
        assert inserted is not None
        grant_id = int(inserted[0])
        self._changes.record(connection, "grant.added", f"grant {grant_id}", _shown(grant), product=grant.product)
        return grant_id

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
            product = connection.execute(
                select(access_grants.c.product).where(access_grants.c.id == grant_id)
            ).scalar_one()
            self._changes.record(connection, "grant.revoked", f"grant {grant_id}", product=product)
            return True

    def active(self, now: datetime | None = None) -> list[GrantRecord]:
        """Every grant neither revoked nor expired (at ``now``; expired ones too when None), oldest first."""
        query = select(access_grants).where(access_grants.c.revoked_at.is_(None))
        if now is not None:
            query = query.where(or_(access_grants.c.expires_at.is_(None), access_grants.c.expires_at > naive(now)))
        with self._engine.connect() as connection:
            return [_grant(r) for r in connection.execute(query.order_by(access_grants.c.id))]

    def expiring(self, within: timedelta) -> list[GrantRecord]:
        """Unrevoked grants that expire from now to ``within`` from now, soonest first."""
        with self._engine.connect() as connection:
            now = database_now(connection)
            query = (
                select(access_grants)
                .where(
                    access_grants.c.revoked_at.is_(None),
                    access_grants.c.expires_at > now,
                    access_grants.c.expires_at <= now + within,
                )
                .order_by(access_grants.c.expires_at, access_grants.c.id)
            )
            return [_grant(r) for r in connection.execute(query)]

    def announce(self, warn_within: timedelta) -> tuple[list[GrantRecord], list[GrantRecord]]:
        """Record, once per grant and across processes, a ``grant.expiring`` event for each grant
        expiring within ``warn_within`` and a ``grant.expired`` event for each that has expired;
        returns (expiring, expired) as announced by this call."""
        announced: tuple[list[GrantRecord], list[GrantRecord]] = ([], [])
        c = access_grants.c
        with self._engine.begin() as connection:
            now = database_now(connection)
            steps = (
                ("grant.expiring", c.expiry_warned_at, (c.expires_at > now, c.expires_at <= now + warn_within)),
                ("grant.expired", c.expiry_noted_at, (c.expires_at <= now,)),
            )
            for (kind, mark, due), found in zip(steps, announced, strict=True):
                claimed = connection.execute(
                    update(access_grants)
                    .where(c.revoked_at.is_(None), mark.is_(None), c.expires_at.is_not(None), *due)
                    .values({mark: now})
                    .returning(*c)
                )
                for row in claimed.all():
                    grant = _grant(row)
                    found.append(grant)
                    expires = grant.expires_at.isoformat() if grant.expires_at else None
                    data = _shown(grant) | {"expiresAt": expires}
                    self._changes.record(
                        connection, kind, f"grant {grant.id}", data, product=grant.product, access=False
                    )
        return announced

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
        expires_at=maybe_aware(row.expires_at),
        major=row.major,
        source=row.source,
        granted_by=row.granted_by,
        id=int(row.id),
        granted_at=maybe_aware(row.granted_at),
        revoked_at=maybe_aware(row.revoked_at),
        revoked_by=row.revoked_by,
        request_id=row.request_id,
    )


def _shown(grant: GrantRecord) -> dict[str, Any]:
    """What an audit row or event says about a grant (its policy, never a value)."""
    return {
        "grantee": grant.principal_id or f"role {grant.role}",
        "ports": list(grant.ports),
        "unmask": list(grant.unmask),
        "rowFilter": grant.row_filter,
        "expiresAt": grant.expires_at.isoformat() if grant.expires_at else None,
        "source": grant.source,
        "request": grant.request_id,
    }
