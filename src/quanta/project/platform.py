"""``Platform``: a shared catalog and snapshot storage, no checkout needed.

What ``quanta serve``, the web catalog and the catalog-only commands use: every product comes from
its published descriptor. A :class:`~quanta.project.mesh.Mesh` reads through one too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quanta.access import LOCAL_OWNER, Principal
from quanta.access.credentials import TOKEN_PREFIX, FailureLimiter
from quanta.catalog import Catalog, Descriptor, GrantRecord, PrincipalRecord, TokenRecord
from quanta.errors import AccessDenied, ConfigError, NotFound, QuantaError
from quanta.spec.mesh import OidcSettings, PlatformSettings
from quanta.spec.plugins import PluginRegistry
from quanta.spec.policy import Grant
from quanta.spec.product import DataProduct
from quanta.storage import LocalSnapshotStore, SnapshotLocation, SnapshotStore

if TYPE_CHECKING:
    from quanta.access import Decision
    from quanta.access.oidc import OidcVerifier
    from quanta.catalog.search import SearchQuery, SearchResult
    from quanta.ports.files import ExportResult
    from quanta.project.discovery import Discovery


class Platform:
    """The catalog and the snapshot storage (``store`` None: the catalog alone, no data reads);
    ``oidc``: JWT bearer tokens are accepted next to API tokens."""

    def __init__(
        self,
        catalog: Catalog,
        store: SnapshotStore | None,
        plugins: PluginRegistry | None = None,
        oidc: OidcSettings | None = None,
    ) -> None:
        from quanta.catalog.audit import AuditWriter
        from quanta.project.requests import AccessRequests
        from quanta.read import DataPlane

        self.catalog = catalog
        self._store = store
        audit = AuditWriter(catalog.audit) if catalog.audit.enabled else None
        self.plane = DataPlane(catalog, lambda: self.store, plugins, audit=audit)
        self.requests = AccessRequests(self)
        """The access-request workflow."""
        self.limiter = FailureLimiter()
        """Failed authentications per source, in this process."""
        self._authenticated: dict[str, _Authenticated] = {}
        self.oidc = oidc
        self._bearer: OidcVerifier | None = None
        self._discovery: Discovery | None = None
        self._hidden: dict[str, tuple[object, frozenset[str]]] = {}
        if store is not None:
            backfill_descriptors(catalog, store)

    @classmethod
    def open(cls, settings: PlatformSettings, root: Path, lease_s: float | None = None) -> Platform:
        """The platform the settings name; relative paths are taken against ``root``. Auditing is on
        when ``QUANTA_AUDIT_KEY`` is set."""
        import os

        from quanta.catalog.audit import KEY_VARIABLE, audit_key
        from quanta.catalog.runs import DEFAULT_LEASE_S

        key = audit_key(os.environ.get(KEY_VARIABLE))
        catalog = Catalog(catalog_url(settings, root), lease_s=lease_s or DEFAULT_LEASE_S, audit_key=key)
        try:
            store = snapshot_store(settings, root) if settings.storage else None
            return cls(catalog, store, oidc=settings.oidc.under(root) if settings.oidc else None)
        except BaseException:
            catalog.close()
            raise

    def close(self) -> None:
        if self._discovery is not None:
            self._discovery.close()
        self.plane.close()
        self.catalog.close()

    @property
    def store(self) -> SnapshotStore:
        if self._store is None:
            raise ConfigError(
                "no snapshot storage named: pass --storage or set QUANTA_STORAGE (a folder or s3://bucket/prefix)"
            )
        return self._store

    @property
    def title(self) -> str:
        from quanta.catalog.database import shown_url

        return f"catalog {shown_url(self.catalog.engine)}"

    # ---------------------------------------------------------------- the registry

    def specs(self) -> list[DataProduct]:
        """Every registered product major with its current published spec."""
        return self.plane.published()

    def spec(self, name: str) -> DataProduct:
        """A published product by ``domain.name`` (its highest major) or ``domain.name@vN``."""
        return self.plane.product(name)

    @property
    def discovery(self) -> Discovery:
        """The search index over every published product, kept in step with the catalog."""
        if self._discovery is None:
            from quanta.project.discovery import Discovery

            self._discovery = Discovery(self.catalog, self.specs)
        return self._discovery

    def search(self, query: SearchQuery, principal: Principal = LOCAL_OWNER) -> SearchResult:
        """The products ``principal`` may discover that match ``query``: every one but the
        confidential products it may read no port of."""
        return self.discovery.search(query, self.hidden_from(principal))

    def hidden_from(self, principal: Principal) -> frozenset[str]:
        """Keys of the confidential products ``principal`` may not discover (remembered per
        principal until access or the products change)."""
        discovery = self.discovery
        discovery.refresh()
        if principal.owner or not discovery.confidential:
            return frozenset()
        minute = int(time.monotonic() // 60)  # a grant may lapse with time alone
        identity = (
            principal,
            tuple(sorted(principal.attributes.items())),
            self.plane.generation,
            discovery.version,
            minute,
        )
        cached = self._hidden.get(principal.id)
        if cached is None or cached[0] != identity:
            hidden = frozenset(s.key for s in discovery.confidential if not self.may_read(principal, s))
            if len(self._hidden) > 10_000:
                self._hidden.clear()
            self._hidden[principal.id] = cached = (identity, hidden)
        return cached[1]

    def may_read(self, principal: Principal, spec: DataProduct) -> bool:
        """Whether ``principal`` may read at least one port of ``spec``."""
        ports: list[str | None] = [p.id for p in spec.outputs] or [None]
        return any(self.plane.decide(principal, spec, port, None).allowed for port in ports)

    def discoverable(self, principal: Principal, name: str) -> DataProduct:
        """The published product ``name`` if ``principal`` may see it; else the one 404 a product
        that does not exist gets (no suggestion: it could name a product the caller may not see)."""
        try:
            spec = self.spec(name)
        except NotFound:
            raise NotFound(f"the catalog has no product '{name}'") from None
        if not self.visible(principal, spec):
            raise NotFound(f"the catalog has no product '{name}'")
        return spec

    def visible(self, principal: Principal, spec: DataProduct) -> bool:
        """Whether ``principal`` may see ``spec``'s metadata: unless confidential, anyone may."""
        return principal.owner or not spec.access.confidential or self.may_read(principal, spec)

    # ---------------------------------------------------------------- data (as the platform owner)

    def read(
        self,
        name: str,
        *,
        snapshot_id: str | None = None,
        as_of: datetime | None = None,
        unmask: bool = False,
        limit: int | None = None,
    ) -> Any:
        """A product snapshot as a pyarrow Table (current, by id, or as of a time)."""
        from quanta.read import Selector

        selector = Selector(snapshot_id, as_of)
        return self.plane.table(LOCAL_OWNER, name, None, selector, unmask=unmask, limit=limit)

    def query(
        self,
        sql: str,
        *,
        unmask: bool = False,
        as_of: datetime | None = None,
        limit: int | None = None,
        principal: str | None = None,
    ) -> Any:
        """One gated query over every published product (tables ``<domain>.<product>``), as the
        platform owner or, with ``principal``, exactly as that catalog principal would see it."""
        if principal is None:
            return self.plane.query(LOCAL_OWNER, sql, as_of=as_of, unmask=unmask, limit=limit)
        if unmask:
            raise QuantaError("--unmask shows what the owner sees: it cannot be combined with --as")
        who = self.principal(principal)
        try:
            return self.plane.query(who, sql, as_of=as_of, limit=limit)
        except AccessDenied as exc:
            raise AccessDenied(f"{principal} may not run this query: {exc}") from None

    def export(
        self,
        name: str,
        file_format: str = "parquet",
        *,
        out: Path | None = None,
        snapshot_id: str | None = None,
        unmask: bool = False,
    ) -> ExportResult:
        """Write a product snapshot to one Parquet or CSV file (classified properties masked)."""
        from quanta.project.outputs import export

        return export(self.plane, self.spec(name), file_format, out, snapshot_id, unmask)

    def verify(self, names: list[str], snapshot_id: str | None = None) -> dict[str, list[str]]:
        """Checksum every file of each product's current snapshot (or ``snapshot_id``): problems by
        ``key@snapshot``; an empty list is a sound snapshot."""
        from quanta.read import Selector
        from quanta.read.plane import location_of

        specs = [self.spec(n) for n in names] if names else self.specs()
        found: dict[str, list[str]] = {}
        for spec in specs:
            try:
                record = self.plane.snapshot(spec, Selector(snapshot_id=snapshot_id))
            except NotFound:
                if snapshot_id is not None and names:
                    raise
                continue
            found[f"{spec.key} {record.id}"] = self.store.verify(location_of(spec), record.id)
        return found

    # ---------------------------------------------------------------- access: principals and credentials

    def add_principal(self, record: PrincipalRecord) -> PrincipalRecord:
        """Register a user or service account (``admin``: a platform admin)."""
        if not record.id or any(c.isspace() for c in record.id):
            raise QuantaError(f"principal id '{record.id}': use a non-empty name without spaces")
        known = self.roles()
        if known:  # once a mesh is published, roles are the meshes' `roles:`
            from quanta.spec.errormap import suggest

            for role in record.roles:
                if role not in known:
                    hint = suggest(role, sorted(known))
                    raise ConfigError(
                        f"role '{role}' is in no published mesh's roles: ({', '.join(sorted(known))})"
                        + (f"; {hint}" if hint else "")
                    )
        return self.catalog.access.add(record)

    def roles(self) -> set[str]:
        """The role names of every published mesh (grants and principals refer to them)."""
        return {
            str(role["name"])
            for mesh in self.catalog.products.meshes()
            for role in mesh.spec.get("roles") or []
            if isinstance(role, dict) and "name" in role
        }

    def principal(self, name: str) -> Principal:
        """A catalog principal as the decision point sees it (a platform admin is the platform owner)."""
        record = self.catalog.access.require(name)
        return Principal(record.id, frozenset(record.roles), dict(record.attributes), record.admin, record.team)

    def create_token(self, principal: str, days: float | None = 90) -> tuple[str, TokenRecord]:
        """A new API token for ``principal`` expiring after ``days`` (None: never): the token, shown
        once, and its record. Only its SHA-256 is stored."""
        from quanta.access.credentials import mint_token

        if days is not None and days <= 0:
            raise QuantaError("a token's lifetime must be positive")
        minted = mint_token()
        expires = self.catalog.access.now() + timedelta(days=days) if days is not None else None
        record = self.catalog.access.add_token(minted.id, principal, minted.sha256, expires)
        return minted.token, record

    def revoke_token(self, token_id: str) -> None:
        if not self.catalog.access.revoke(token_id):
            found = self.catalog.access.token(token_id)
            raise NotFound(f"token {token_id} is already revoked" if found else f"the catalog has no token {token_id}")

    def set_password(self, principal: str, password: str) -> None:
        """Store the SCRAM-SHA-256 verifier of ``password`` for SQL clients (never the password)."""
        from quanta.access.credentials import scram_verifier

        if not password:
            raise QuantaError("the password is empty")
        self.catalog.access.set_verifier(principal, scram_verifier(password))

    def authenticate(self, credential: str, source: str = "local") -> Principal:
        """The principal a credential stands for: an API token (``qt_…``, its use recorded) or, when
        OIDC is configured, a JWT bearer token (its claims alone make the principal, see
        :mod:`quanta.access.oidc.claims`). A refused credential raises :class:`AccessDenied` (for
        API tokens one message for all); failures of both kinds are limited per ``source``. An API
        token checked in the last minute under the same access generation is not looked up again
        (a revocation, or any change to principals, bumps the generation)."""
        import time

        from quanta.access.credentials import token_hash

        wait = self.limiter.retry_after(source)
        if wait is not None:
            raise AccessDenied(f"too many failed authentications from {source}: retry in {wait:.0f} s")
        if self.oidc is not None and not credential.startswith(f"{TOKEN_PREFIX}_"):
            return self._bearer_principal(credential, source)
        generation = self.catalog.access.generation()
        digest = token_hash(credential)
        cached = self._authenticated.get(digest)
        now = time.monotonic()
        if cached is not None and cached.generation == generation and now < cached.until:
            return cached.principal
        principal, left = self._check_token(credential, source)
        if len(self._authenticated) >= 10_000:
            self._authenticated.clear()
        self._authenticated[digest] = _Authenticated(principal, generation, now + min(_AUTH_CACHE_S, left))
        return principal

    def _check_token(self, token: str, source: str) -> tuple[Principal, float]:
        """Look an API token up: its principal and how many seconds it stays valid."""
        from quanta.access.credentials import parse_token, token_matches

        token_id = parse_token(token)
        found = self.catalog.access.token(token_id) if token_id else None
        record, stored = found if found else (None, None)
        matched = token_matches(token, stored)
        now = self.catalog.access.now()
        expired = record is not None and record.expires_at is not None and record.expires_at <= now
        if not matched or record is None or record.revoked_at is not None or expired:
            self.limiter.failed(source)
            raise AccessDenied("invalid, expired or revoked token")
        self.limiter.succeeded(source)
        self.catalog.access.used(record.id)
        left = (record.expires_at - now).total_seconds() if record.expires_at is not None else float("inf")
        return self.principal(record.principal_id), left

    # ---------------------------------------------------------------- access: catalog grants

    def grant(
        self,
        product: str,
        grant: Grant,
        *,
        by: str = "local",
        every_major: bool = False,
        duration: timedelta | None = None,
    ) -> GrantRecord:
        """Give ``grant`` on a published product (its highest major, or the one named ``@vN``; every
        major with ``every_major``), checked like a spec's grants; effective on every port at once.
        It expires at the end of its ``expires`` day, or ``duration`` from now."""
        from quanta.access.decide import end_of_day
        from quanta.access.grants import grant_problems
        from quanta.catalog.changes import acting_as

        spec = self.spec(product)
        if grant.principal is not None:
            self.catalog.access.require(grant.principal)
        problems = grant_problems(grant, spec, self.roles(), self.catalog.access.now().date())
        if problems:
            raise ConfigError(f"cannot grant access to {spec.ref}: " + "; ".join(problems))
        if grant.expires is not None and duration is not None:
            raise QuantaError("a grant expires on a day or after a duration, not both")
        ends = end_of_day(grant.expires) if grant.expires is not None else None
        if duration is not None:
            if duration <= timedelta(0):
                raise QuantaError("a grant's duration must be positive")
            ends = self.catalog.access.now() + duration
        record = GrantRecord(
            product=spec.ref,
            ports=tuple(grant.ports),
            role=grant.role,
            principal_id=grant.principal,
            row_filter=grant.row_filter,
            unmask=tuple(grant.unmask),
            masks=dict(grant.masks),
            purpose=grant.purpose,
            expires_at=ends,
            major=None if every_major else spec.major,
            granted_by=by,
        )
        with acting_as(by):
            return self.catalog.grants.add(record)

    def revoke_grant(self, grant_id: int, *, by: str = "local") -> None:
        """Revoke a catalog grant: every process stops honouring it on its next statement."""
        from quanta.catalog.changes import acting_as

        with acting_as(by):
            revoked = self.catalog.grants.revoke(grant_id, by)
        if not revoked:
            found = self.catalog.grants.get(grant_id)
            raise NotFound(f"grant {grant_id} is already revoked" if found else f"the catalog has no grant {grant_id}")

    def _bearer_principal(self, token: str, source: str) -> Principal:
        """A JWT bearer token's principal (a JWKS that cannot be loaded is not the caller's failure)."""
        from quanta.access.oidc import OidcVerifier

        if self._bearer is None:
            assert self.oidc is not None
            self._bearer = OidcVerifier(self.oidc)
        try:
            principal = self._bearer.authenticate(token)
        except AccessDenied:
            self.limiter.failed(source)
            raise
        self.limiter.succeeded(source)
        return principal

    def oidc_claims(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """The verified claims of an OIDC token, checked like a bearer token, but against ``audience``
        when given (an ID token is meant for the web catalog's client id). :class:`AccessDenied`
        says why a token is refused; failures count against no source (sign-in counts its own)."""
        from quanta.access.oidc import OidcVerifier

        if self.oidc is None:
            raise ConfigError("OIDC is not configured: set oidc: under platform: in mesh.yaml")
        if self._bearer is None:
            self._bearer = OidcVerifier(self.oidc)
        if audience is None or audience == self.oidc.audience:
            return self._bearer.claims(token)
        other = OidcVerifier(self.oidc.model_copy(update={"audience": audience}), jwks=self._bearer.jwks)
        return other.claims(token)

    def explain(self, principal: str, product: str, port: str | None = None) -> Explanation:
        """Why ``principal`` may or may not read ``product`` (through ``port``; its SQL port when
        None): which grant, which properties are masked and how, which row filter."""
        who = self.principal(principal)
        spec = self.spec(product)
        if port is None and not who.owner:  # as `quanta query` would read it; any port when it has no SQL port
            port = next((o.id for o in spec.outputs if o.type == "sql"), None)
        try:
            record = self.plane.snapshot(spec)
        except NotFound:
            record = None
        decision = self.plane.decide(who, spec, port, record)
        bound = None
        if decision.allowed and decision.row_filter and not decision.sees_no_rows:
            from quanta.sql.rowfilter import bind_row_filter

            bound = bind_row_filter(decision.row_filter, who.attributes).sql(dialect="duckdb")
        return Explanation(who, spec.key, port, decision, bound, record.id if record else None)


def upgrade_catalog(settings: PlatformSettings, root: Path) -> tuple[str | None, str]:
    """Bring the catalog the settings name to this Quanta's schema (the one way a shared catalog is
    upgraded), then fill in descriptors from manifests when storage is named; returns (before, after)."""
    from quanta.catalog.database import create_catalog_engine
    from quanta.catalog.migrate import upgrade

    engine = create_catalog_engine(catalog_url(settings, root))
    try:
        revisions = upgrade(engine)
    finally:
        engine.dispose()
    Platform.open(settings, root).close()  # opening backfills descriptors when storage is known
    return revisions


_AUTH_CACHE_S = 60.0
"""How long a checked token is trusted without a lookup (within one access generation)."""


@dataclass(frozen=True)
class _Authenticated:
    principal: Principal
    generation: int
    until: float
    """``time.monotonic()`` after which the token is looked up again."""


@dataclass(frozen=True)
class Explanation:
    """What :meth:`Platform.explain` found."""

    principal: Principal
    product: str
    port: str | None
    decision: Decision
    row_filter: str | None
    """The row filter bound to the principal's attributes, as SQL."""
    snapshot_id: str | None

    def to_data(self) -> dict[str, Any]:
        """The explanation as JSON-ready data (what ``quanta access explain --format json`` and the
        servers show)."""
        decision = self.decision
        grant = decision.grant
        return {
            "principal": self.principal.id,
            "product": self.product,
            "port": self.port,
            "snapshot": self.snapshot_id,
            "allowed": decision.allowed,
            "reason": decision.reason,
            "source": decision.source or None,
            "grant": None
            if grant is None
            else {
                "role": grant.role,
                "principal": grant.principal,
                "ports": list(grant.ports),
                "purpose": grant.purpose,
                "expires": decision.expires_at.isoformat() if decision.expires_at else None,
            },
            "masked": {name: rule.kind for name, rule in decision.masked.items()},
            "unmasked": sorted(grant.unmask) if grant is not None else [],
            "rowFilter": None
            if decision.row_filter is None
            else {"text": decision.row_filter, "bound": self.row_filter, "missing": list(decision.missing)},
        }


def catalog_url(settings: PlatformSettings, root: Path) -> str:
    """The catalog URL with a relative SQLite path made absolute against ``root``."""
    url = settings.catalog
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        path = root / url.removeprefix(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path.resolve())
    return url


def snapshot_store(settings: PlatformSettings, root: Path) -> SnapshotStore:
    """A folder (relative to ``root``) or an ``s3://bucket/prefix`` with a local cache."""
    if settings.storage.startswith("s3://"):
        from quanta.storage.objectstore import ObjectSnapshotStore

        if not settings.storage.removeprefix("s3://").strip("/"):
            raise ConfigError(f"storage '{settings.storage}': name a bucket, e.g. s3://bucket/prefix")
        return ObjectSnapshotStore.from_url(settings.storage, _under(root, settings.cache), settings.storage_endpoint)
    if "://" in settings.storage:
        raise ConfigError(f"storage '{settings.storage}': use a folder or s3://bucket/prefix")
    return LocalSnapshotStore(_under(root, settings.storage))


def _under(root: Path, folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else root / path


def backfill_descriptors(catalog: Catalog, store: SnapshotStore) -> int:
    """Fill in the descriptors of products published before the catalog kept them, from each
    snapshot's manifest; returns how many products were filled in. A no-op after the first time."""
    pending = catalog.products.pending_backfill()
    for entry in pending:
        location = SnapshotLocation(entry.domain, entry.name, entry.major)
        by_snapshot: dict[str, Descriptor] = {}
        for record in catalog.snapshots.list(entry.key):
            try:
                manifest = store.manifest(location, record.id)
            except (OSError, ValueError, KeyError):
                continue  # gone or unreadable: the snapshot keeps no descriptor
            if isinstance(manifest.get("spec"), dict):
                by_snapshot[record.id] = Descriptor(entry.key, record.version, manifest["spec"])
        current = catalog.snapshots.current(entry.key) or catalog.snapshots.last_published(entry.key)
        newest = by_snapshot.get(current.id) if current else None
        newest = newest or next(iter(by_snapshot.values()), None)
        catalog.products.adopt(entry, by_snapshot, newest)
    return len(pending)
