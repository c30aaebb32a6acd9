"""What the catalog stores, as plain frozen records (no SQLAlchemy in their use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot as the catalog knows it."""

    id: str
    product_key: str
    version: str
    build_id: str
    status: str
    created_at: datetime
    published_at: datetime | None
    rows: int
    bytes: int
    content_hash: str
    spec_fingerprint: str
    code_fingerprint: str
    inputs_fingerprint: str
    schema: list[dict[str, Any]]
    descriptor_id: str | None = None
    """The published descriptor the snapshot was published under (None for snapshots made before
    descriptors existed and not yet backfilled)."""


@dataclass(frozen=True)
class LineageRecord:
    """One input of a snapshot: the upstream snapshot or the source it was read from."""

    input_id: str
    input_type: str
    fingerprint: str
    upstream_key: str | None = None
    upstream_snapshot_id: str | None = None
    system: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class StepRecord:
    """What a build run did with one product."""

    run_id: str
    product_key: str
    status: str
    reasons: list[str]
    started_at: datetime
    duration_s: float
    rows: int | None = None
    snapshot_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """A build run; ``status`` is ``abandoned`` for a run still marked running whose lease expired
    (its process died without finishing)."""

    id: str
    status: str  # running | succeeded | failed | abandoned
    who: str
    arguments: list[str]
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    mesh: str | None
    lease_expires_at: datetime | None


@dataclass(frozen=True)
class SliRecord:
    """One measured indicator: a check's outcome on a snapshot at a time."""

    check_id: str
    status: str
    observed: float | None
    operator: str
    limit: float
    blocking: bool
    measured_at: datetime
    message: str | None = None
    snapshot_id: str | None = None


@dataclass(frozen=True)
class ProductEntry:
    """A product major version in the registry: identity, owning mesh and current descriptor."""

    key: str
    ref: str
    domain: str
    name: str
    major: int
    version: str
    description: str | None = None
    mesh: str | None = None
    """The mesh that owns the key (None only for products published before ownership existed)."""
    descriptor_id: str | None = None


@dataclass(frozen=True)
class Descriptor:
    """A product's published descriptor: the full validated spec as data plus the files a server
    needs from the product folder (report templates, model scoring code), by path."""

    product_key: str
    version: str
    spec: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    mesh: str | None = None

    @property
    def id(self) -> str:
        """Content address: equal descriptors have equal ids."""
        from quanta.hashing import canonical_digest

        files = {path: canonical_digest(content) for path, content in sorted(self.files.items())}
        return canonical_digest({"product": self.product_key, "spec": self.spec, "files": files})


@dataclass(frozen=True)
class MeshDescriptor:
    """A mesh as published: domains and teams, roles, the business-key glossary, systems and use
    cases (never its environment-specific platform settings), and where it was published from."""

    name: str
    spec: dict[str, Any]
    origin: str

    @property
    def id(self) -> str:
        from quanta.hashing import canonical_digest

        return canonical_digest({"mesh": self.name, "spec": self.spec, "origin": self.origin})


@dataclass(frozen=True)
class PrincipalRecord:
    """A user or service account the platform knows."""

    id: str
    kind: str = "user"
    """``user`` or ``service``."""
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    """Roles from the mesh's ``roles:``."""
    team: str | None = None
    """The team it belongs to (a domain's team owns its products)."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Bound by row filters as ``:principal.<name>``."""
    admin: bool = False
    """A platform admin: the platform owner's rights."""
    created_at: datetime | None = None


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored: never the token, only its hash (kept out of this record)."""

    id: str
    principal_id: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class GrantRecord:
    """A grant kept in the catalog (given by an admin, or by an approved access request), as
    opposed to one declared in a product's spec. It applies to ``product`` (``domain.name``),
    every major or only ``major``."""

    product: str
    ports: tuple[str, ...]
    role: str | None = None
    principal_id: str | None = None
    row_filter: str | None = None
    unmask: tuple[str, ...] = ()
    masks: dict[str, str] = field(default_factory=dict)
    purpose: str | None = None
    expires_at: datetime | None = None
    """The instant it stops being valid (aware UTC; None: never)."""
    major: int | None = None
    source: str = "admin"
    """``admin`` or ``request``."""
    granted_by: str = "local"
    id: int | None = None
    granted_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    request_id: int | None = None
    """The access request whose approval gave it."""


@dataclass(frozen=True)
class RequestRecord:
    """An access request: a principal asks for ports of a product major, with a purpose, the
    classified properties to unmask and a duration; an approver approves (giving a grant) or rejects."""

    product: str
    """``domain.name``."""
    major: int
    principal_id: str
    ports: tuple[str, ...]
    purpose: str
    unmask: tuple[str, ...]
    duration_s: int
    status: str = "pending"
    """``pending``, ``approved``, ``rejected`` or ``withdrawn``."""
    id: int | None = None
    requested_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    grant_id: int | None = None


@dataclass(frozen=True)
class EventRecord:
    """Something that happened (a request step, a grant change, a failed build, an SLO breach),
    with its webhook delivery state."""

    id: int
    at: datetime
    kind: str
    subject: str
    actor: str
    data: dict[str, Any]
    attempts: int = 0
    delivered_at: datetime | None = None
    abandoned_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log before it is chained: a data access (``action`` ``read``) or a
    change to principals, tokens, grants or requests. Never a secret or a classified value."""

    actor: str
    action: str
    product: str | None = None
    port: str | None = None
    snapshot: str | None = None
    statement: str | None = None
    rows: int | None = None
    decision: str | None = None
    """``allow`` or ``deny`` (data accesses)."""
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    """When it happened (aware UTC); the writer's clock when None."""


@dataclass(frozen=True)
class AuditRow:
    """An audit entry as chained and stored."""

    seq: int
    at: datetime
    entry: AuditEntry
    prev: str
    mac: str
