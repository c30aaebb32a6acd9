"""Discovery: the one search index over a scope's products, kept in step with the catalog, and who
may discover what.

A product's trust for ranking is the worst status of its SLO document (every objective and the
schema checks): ``breached`` when an error budget is exhausted, ``at-risk`` when one is below
target, ``met`` when all measured ones hold, ``unmeasured`` without data. Trust is recomputed when
the product's current snapshot moves, and after ``trust_ttl_s`` seconds (time alone changes
attainment), a few products per refresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from quanta.catalog import Catalog
from quanta.catalog.search import SearchIndex, SearchQuery, SearchResult, Trust, document_of
from quanta.spec.product import DataProduct

_STATUS_TRUST: dict[str, Trust] = {"budget exhausted": "breached", "at risk": "at-risk", "met": "met"}
_ORDER: tuple[Trust, ...] = ("breached", "at-risk", "met")
STALE_PER_REFRESH = 50
"""At most this many products' trust is recomputed for age at one refresh."""


def trust_of(document: dict[str, object]) -> Trust:
    """The trust a SLO document shows: its worst objective's status."""
    objectives = document.get("objectives")
    statuses = [o.get("status") for o in objectives if isinstance(o, dict)] if isinstance(objectives, list) else []
    schema = document.get("schemaChecks")
    if isinstance(schema, dict):
        statuses.append(schema.get("status"))
    found = {_STATUS_TRUST[s] for s in statuses if s in _STATUS_TRUST}
    return next((t for t in _ORDER if t in found), "unmeasured")


class Discovery:
    """Search over the products ``specs`` returns, with trust from ``catalog``."""

    def __init__(
        self,
        catalog: Catalog,
        specs: Callable[[], list[DataProduct]],
        *,
        refresh_s: float = 2.0,
        trust_ttl_s: float = 300.0,
    ) -> None:
        self.catalog = catalog
        self._specs = specs
        self.refresh_s = refresh_s
        self.trust_ttl_s = trust_ttl_s
        self.index = SearchIndex()
        self._lock = threading.Lock()
        self._synced = float("-inf")
        self._trust: dict[str, tuple[str | None, float, Trust]] = {}
        self._products: dict[str, DataProduct] = {}
        self._signature: tuple[object, ...] = ()
        self.confidential: tuple[DataProduct, ...] = ()
        """The confidential products among them."""
        self.version = 0
        """Moves whenever the indexed products change."""

    def search(self, query: SearchQuery, hidden: Iterable[str] = ()) -> SearchResult:
        """The query's page of hits and facets, ``hidden`` keys left out."""
        self.refresh()
        return self.index.search(query, hidden)

    def products(self) -> dict[str, DataProduct]:
        """The indexed products by key (as of the last refresh)."""
        self.refresh()
        return self._products

    def refresh(self, force: bool = False) -> None:
        """Bring the index in step with the catalog when it was synced over ``refresh_s`` ago."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._synced < self.refresh_s:
                return
            specs = self._specs()
            current = self.catalog.snapshots.current_all()
            stale = [k for k, (_, at, _) in self._trust.items() if now - at >= self.trust_ttl_s][:STALE_PER_REFRESH]
            signature = (tuple(map(id, specs)), tuple((k, r.id) for k, r in sorted(current.items())))
            if signature != self._signature or stale:
                for key in stale:  # recomputed a few at a time, so no one search pays for all
                    del self._trust[key]
                documents = [document_of(spec, self._trust_of(spec, current.get(spec.key), now)) for spec in specs]
                if self.index.sync(documents):
                    self.version += 1
                self._products = {spec.key: spec for spec in specs}
                self.confidential = tuple(spec for spec in specs if spec.access.confidential)
                self._signature = signature
            self._synced = time.monotonic()

    def _trust_of(self, spec: DataProduct, snapshot: object, now: float) -> Trust:
        from quanta.quality.document import slo_document

        snapshot_id = getattr(snapshot, "id", None)
        cached = self._trust.get(spec.key)
        if cached is not None and cached[0] == snapshot_id:
            return cached[2]
        if not spec.slos.declared() and not spec.schedule and snapshot_id is None:
            trust: Trust = "unmeasured"  # nothing published and nothing promised: nothing to read
        else:
            trust = trust_of(slo_document(self.catalog, spec, datetime.now(UTC)))
        self._trust[spec.key] = (snapshot_id, now, trust)
        return trust

    def close(self) -> None:
        self.index.close()
