"""Access requests: asked by a principal, approved or rejected by an approver. An approval and
the grant it gives commit in one transaction, so the grant is effective in every process on its
next statement."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select, update

from quanta.catalog.database import aware, database_now, maybe_aware
from quanta.catalog.records import GrantRecord, RequestRecord
from quanta.catalog.tables import access_requests
from quanta.errors import Conflict, NotFound

if TYPE_CHECKING:
    from quanta.catalog.changes import Changes
    from quanta.catalog.grants import Grants

STATUSES = ("pending", "approved", "rejected", "withdrawn")


class Requests:
    """Access requests kept in the catalog."""

    def __init__(self, engine: Engine, grants: Grants, changes: Changes) -> None:
        self._engine = engine
        self._grants = grants
        self._changes = changes

    def add(self, request: RequestRecord) -> RequestRecord:
        """Record a pending request (validated by the caller against the product's published spec)."""
        with self._engine.begin() as connection:
            values = {
                "product": request.product,
                "major": request.major,
                "principal_id": request.principal_id,
                "ports": list(request.ports),
                "purpose": request.purpose,
                "unmask": list(request.unmask),
                "duration_s": request.duration_s,
                "status": "pending",
                "requested_at": database_now(connection),
            }
            inserted = connection.execute(insert(access_requests).values(**values)).inserted_primary_key
            assert inserted is not None
            request_id = int(inserted[0])
            self._changes.record(
                connection,
                "request.created",
                f"request {request_id}",
                _shown(values),
                product=request.product,
                access=False,
            )
        return self.require(request_id)

    def get(self, request_id: int) -> RequestRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(access_requests).where(access_requests.c.id == request_id)).first()
        return _request(row) if row is not None else None

    def require(self, request_id: int) -> RequestRecord:
        found = self.get(request_id)
        if found is None:
            raise NotFound(f"the catalog has no access request {request_id}")
        return found

    def find(
        self, *, status: str | None = None, product: str | None = None, principal: str | None = None
    ) -> list[RequestRecord]:
        """Requests oldest first, optionally by status, product (``domain.name``) or requester."""
        query = select(access_requests).order_by(access_requests.c.id)
        if status is not None:
            query = query.where(access_requests.c.status == status)
        if product is not None:
            query = query.where(access_requests.c.product == product)
        if principal is not None:
            query = query.where(access_requests.c.principal_id == principal)
        with self._engine.connect() as connection:
            return [_request(r) for r in connection.execute(query)]

    def approve(self, request_id: int, by: str, note: str | None, grant: GrantRecord) -> RequestRecord:
        """Approve a pending request and give ``grant`` (its expiry counted from now), together."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            pending = self._pending(connection, request_id)
            expires = now + timedelta(seconds=pending.duration_s)
            given = replace(grant, expires_at=aware(expires), request_id=request_id, source="request", granted_by=by)
            grant_id = self._grants.insert(connection, given)
            self._decided(connection, request_id, "approved", by, note, now, grant_id)
            data = {"grant": grant_id, "by": by, "note": note, "expiresAt": aware(expires).isoformat()}
            data |= {"principal": pending.principal_id}
            self._changes.record(
                connection, "request.approved", f"request {request_id}", data, product=pending.product, access=False
            )
        return self.require(request_id)

    def reject(self, request_id: int, by: str, note: str | None) -> RequestRecord:
        """Reject a pending request."""
        return self._close(request_id, "rejected", by, note)

    def withdraw(self, request_id: int, by: str) -> RequestRecord:
        """Withdraw a pending request (its requester changed their mind)."""
        return self._close(request_id, "withdrawn", by, None)

    def _close(self, request_id: int, status: str, by: str, note: str | None) -> RequestRecord:
        with self._engine.begin() as connection:
            pending = self._pending(connection, request_id)
            self._decided(connection, request_id, status, by, note, database_now(connection), None)
            data = {"by": by, "note": note, "principal": pending.principal_id}
            self._changes.record(
                connection, f"request.{status}", f"request {request_id}", data, product=pending.product, access=False
            )
        return self.require(request_id)

    def _pending(self, connection: Any, request_id: int) -> RequestRecord:
        row = connection.execute(select(access_requests).where(access_requests.c.id == request_id)).first()
        if row is None:
            raise NotFound(f"the catalog has no access request {request_id}")
        if row.status != "pending":
            raise Conflict(f"access request {request_id} is already {row.status}")
        return _request(row)

    @staticmethod
    def _decided(
        connection: Any, request_id: int, status: str, by: str, note: str | None, now: Any, grant_id: int | None
    ) -> None:
        result = connection.execute(
            update(access_requests)
            .where(access_requests.c.id == request_id, access_requests.c.status == "pending")
            .values(status=status, decided_by=by, decided_at=now, note=note, grant_id=grant_id)
        )
        if result.rowcount != 1:  # decided by someone else in between
            raise Conflict(f"access request {request_id} was decided by someone else meanwhile")


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    keys = ("principal_id", "ports", "purpose", "unmask", "duration_s", "major")
    return {k: values[k] for k in keys}


def _request(row: Any) -> RequestRecord:
    return RequestRecord(
        product=row.product,
        major=int(row.major),
        principal_id=row.principal_id,
        ports=tuple(row.ports or ()),
        purpose=row.purpose,
        unmask=tuple(row.unmask or ()),
        duration_s=int(row.duration_s),
        status=row.status,
        id=int(row.id),
        requested_at=maybe_aware(row.requested_at),
        decided_by=row.decided_by,
        decided_at=maybe_aware(row.decided_at),
        note=row.note,
        grant_id=row.grant_id,
    )
