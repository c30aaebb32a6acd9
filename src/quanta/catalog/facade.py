"""``Catalog``: the platform's registry, a facade over small stores on one database.

- ``products``: product entries, their owning mesh, published descriptors and mesh descriptors;
- ``snapshots``: snapshot records and the current pointers;
- ``lineage``: what each snapshot was built from;
- ``runs``: build runs with heartbeat leases, their steps and build claims;
- ``slis``: measured service level indicators;
- ``access``: principals, their API tokens (hashes only) and SCRAM password verifiers, and the
  access generation;
- ``grants``: grants given in the catalog (by an admin, or by approved access requests);
- ``requests``: access requests and their approval or rejection;
- ``events``: request steps, grant changes, failed builds and SLO breaches, with webhook delivery;
- ``audit``: the tamper-evident audit log (when an audit key is given);
- ``reports``: rendered reports kept with the snapshots they used, and scheduled tick claims.

Every change to principals, tokens, grants and requests is recorded (generation, audit row, event)
in its own transaction by :class:`~quanta.catalog.changes.Changes`.

Writes that span stores (publishing) run here in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from quanta import faults
from quanta.catalog.access import Access
from quanta.catalog.audit import AuditLog
from quanta.catalog.changes import Changes
from quanta.catalog.database import aware, create_catalog_engine, database_now
from quanta.catalog.events import Events
from quanta.catalog.grants import Grants
from quanta.catalog.lineage import Lineage
from quanta.catalog.migrate import ensure_current
from quanta.catalog.products import Products
from quanta.catalog.records import Descriptor, LineageRecord, ProductEntry, SnapshotRecord
from quanta.catalog.reports import Reports
from quanta.catalog.requests import Requests
from quanta.catalog.runs import DEFAULT_LEASE_S, Runs
from quanta.catalog.sessions import Sessions
from quanta.catalog.slis import Slis
from quanta.catalog.snapshots import Snapshots


class Catalog:
    """A catalog database (SQLite or PostgreSQL) and its stores."""

    def __init__(self, url: str, *, lease_s: float = DEFAULT_LEASE_S, audit_key: bytes | None = None) -> None:
        self.url = url
        self.engine = create_catalog_engine(url)
        try:
            ensure_current(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.products = Products(self.engine)
        self.snapshots = Snapshots(self.engine)
        self.lineage = Lineage(self.engine)
        self.runs = Runs(self.engine, lease_s)
        self.slis = Slis(self.engine)
        self.events = Events(self.engine)
        self.audit = AuditLog(self.engine, audit_key)
        changes = Changes(self.audit, self.events)
        self.access = Access(self.engine, changes)
        self.grants = Grants(self.engine, changes)
        self.requests = Requests(self.engine, self.grants, changes)
        self.reports = Reports(self.engine)
        self.sessions = Sessions(self.engine)

    def close(self) -> None:
        self.access.close()
        self.engine.dispose()

    def publish(
        self,
        product: ProductEntry,
        descriptor: Descriptor,
        record: SnapshotRecord,
        inputs: Sequence[LineageRecord],
        *,
        make_current: bool = True,
    ) -> datetime | None:
        """Register a complete snapshot, its lineage and the descriptor it was published under and,
        if asked, move the current pointer: all in one transaction, timed by the database's clock.
        Returns the publication time (None for a snapshot kept unpublished)."""
        faults.checkpoint(faults.BEFORE_CATALOG_COMMIT)
        with self.engine.begin() as connection:
            now = database_now(connection)
            self.products.register(connection, product, descriptor, now, current=make_current)
            published = replace(record, descriptor_id=descriptor.id)
            Snapshots.insert(connection, published, now if make_current else None)
            Lineage.add(connection, record.id, inputs)
            if make_current:
                Snapshots.move_current(connection, product.key, record.id, now)
            faults.checkpoint(faults.DURING_CATALOG_COMMIT)
        return aware(now) if make_current else None

    def register(self, product: ProductEntry, descriptor: Descriptor) -> None:
        """Record the current descriptor of a product whose data did not change (a spec edit that
        shapes no data: description, ports, SLOs, access)."""
        with self.engine.begin() as connection:
            self.products.register(connection, product, descriptor, database_now(connection))
