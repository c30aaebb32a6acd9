"""The catalog's tables (SQLAlchemy Core). Changes go through an Alembic migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("key", String(200), primary_key=True),  # <domain>.<name>@v<major>
    Column("ref", String(200), nullable=False),
    Column("domain", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("major", Integer, nullable=False),
    Column("version", String(50), nullable=False),
    Column("description", Text),
    Column("updated_at", DateTime, nullable=False),
    Column("mesh", String(100)),  # the owning mesh; NULL only for products published before ownership
    Column("descriptor_id", String(64)),  # the current published descriptor
    Index("ix_products_ref", "ref"),
)

descriptors = Table(
    "descriptors",
    metadata,
    Column("id", String(64), primary_key=True),  # content address of product key, spec and files
    Column("product_key", String(200), nullable=False),
    Column("version", String(50), nullable=False),
    Column("mesh", String(100)),
    Column("spec", JSON, nullable=False),
    Column("files", JSON, nullable=False),  # {path: sha256 of a blob}
    Column("created_at", DateTime, nullable=False),
    Index("ix_descriptors_product", "product_key", "created_at"),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

meshes = Table(
    "meshes",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("descriptor_id", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("origin", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("product_key", String(200), ForeignKey("products.key"), nullable=False),
    Column("version", String(50), nullable=False),
    Column("build_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # published | rejected
    Column("created_at", DateTime, nullable=False),
    Column("published_at", DateTime),
    Column("rows", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("content_hash", String(128), nullable=False),
    Column("spec_fingerprint", String(64), nullable=False),
    Column("code_fingerprint", String(64), nullable=False),
    Column("inputs_fingerprint", String(64), nullable=False),
    Column("schema", JSON, nullable=False),
    Column("descriptor_id", String(64)),
    Index("ix_snapshots_product_published", "product_key", "published_at"),
)

current = Table(
    "current_snapshots",
    metadata,
    Column("product_key", String(200), ForeignKey("products.key"), primary_key=True),
    Column("snapshot_id", String(64), ForeignKey("snapshots.id"), nullable=False),
    Column("published_at", DateTime, nullable=False),
)

lineage = Table(
    "lineage",
    metadata,
    Column("snapshot_id", String(64), ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("input_id", String(100), primary_key=True),
    Column("input_type", String(50), nullable=False),
    Column("upstream_key", String(200)),
    Column("upstream_snapshot_id", String(64)),
    Column("system", String(100)),
    Column("source", Text),
    Column("fingerprint", String(128), nullable=False),
)

build_runs = Table(
    "build_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(20), nullable=False),  # running | succeeded | failed (abandoned is derived)
    Column("who", String(100), nullable=False),
    Column("arguments", Text, nullable=False),
    Column("duration_s", Float),
    Column("mesh", String(100)),
    Column("lease_expires_at", DateTime),  # renewed by the run's heartbeat while it runs
)

build_claims = Table(
    "build_claims",
    metadata,
    Column("product_key", String(200), primary_key=True),  # one run builds a product at a time
    Column("run_id", String(64), nullable=False),
    Column("claimed_at", DateTime, nullable=False),
)

build_steps = Table(
    "build_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("build_runs.id"), nullable=False),
    Column("product_key", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # built | unchanged | skipped | failed | blocked
    Column("reasons", Text, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("rows", BigInteger),
    Column("snapshot_id", String(64)),
    Column("error", Text),
    Index("ix_build_steps_product", "product_key", "started_at"),
)

slis = Table(
    "slis",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product_key", String(200), nullable=False),
    Column("snapshot_id", String(64)),
    Column("check_id", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # passed | warning | failed | error
    Column("observed", Float),
    Column("operator", String(4), nullable=False),
    Column("limit", Float, nullable=False),
    Column("blocking", Boolean, nullable=False),
    Column("measured_at", DateTime, nullable=False),
    Column("message", Text),
    Index("ix_slis_product_check", "product_key", "check_id", "measured_at"),
)

principals = Table(
    "principals",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),  # user | service
    Column("display_name", Text),
    Column("roles", JSON, nullable=False),  # the mesh's roles: [name, …]
    Column("team", String(100)),
    Column("attributes", JSON, nullable=False),  # {name: value}, bound by row filters
    Column("admin", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("principal_id", String(200), ForeignKey("principals.id", ondelete="CASCADE"), nullable=False),
    Column("sha256", String(64), nullable=False),  # the token itself is never stored
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime),
    Column("revoked_at", DateTime),
    Column("last_used_at", DateTime),
    Index("ix_api_tokens_principal", "principal_id"),
)

scram_verifiers = Table(
    "scram_verifiers",
    metadata,
    Column("principal_id", String(200), ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True),
    Column("verifier", Text, nullable=False),  # SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
    Column("updated_at", DateTime, nullable=False),
)

access_grants = Table(
    "access_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product", String(200), nullable=False),  # <domain>.<name>
    Column("major", Integer),  # None: every major
    Column("role", String(100)),  # exactly one of role and principal_id
    Column("principal_id", String(200)),
    Column("ports", JSON, nullable=False),  # [port id, …]
    Column("row_filter", Text),
    Column("unmask", JSON, nullable=False),  # [property, …]
    Column("masks", JSON, nullable=False),  # {property: mask kind}
    Column("purpose", Text),
    Column("expires_at", DateTime),  # the instant it stops being valid
    Column("source", String(20), nullable=False),  # admin | request
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("revoked_by", String(200)),
    Column("request_id", Integer),  # the access request whose approval gave it
    Column("expiry_warned_at", DateTime),  # when its coming expiry was announced (once)
    Column("expiry_noted_at", DateTime),  # when its expiry was recorded as an event (once)
    Index("ix_access_grants_product", "product"),
)

access_generation = Table(
    "access_generation",
    metadata,
    Column("id", Integer, primary_key=True),  # one row, id 1
    Column("generation", BigInteger, nullable=False),  # bumped by every change to principals, tokens, grants
)

access_requests = Table(
    "access_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product", String(200), nullable=False),  # <domain>.<name>
    Column("major", Integer, nullable=False),
    Column("principal_id", String(200), nullable=False),  # who asks (the grant goes to them)
    Column("ports", JSON, nullable=False),  # [port id, …]
    Column("purpose", Text, nullable=False),
    Column("unmask", JSON, nullable=False),  # [property, …]
    Column("duration_s", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # pending | approved | rejected | withdrawn
    Column("requested_at", DateTime, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime),
    Column("note", Text),
    Column("grant_id", Integer),
    Index("ix_access_requests_status", "status"),
    Index("ix_access_requests_product", "product"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("kind", String(50), nullable=False),  # e.g. request.created, grant.revoked, build.failed
    Column("subject", String(200), nullable=False),  # what it is about: a product, a request, a principal
    Column("actor", String(200), nullable=False),
    Column("data", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),  # webhook deliveries tried
    Column("next_attempt_at", DateTime),
    Column("claimed_until", DateTime),  # a dispatcher's lease on its delivery
    Column("delivered_at", DateTime),
    Column("abandoned_at", DateTime),  # retries exhausted
    Column("last_error", Text),
    Index("ix_events_at", "at"),
    Index("ix_events_pending", "delivered_at", "abandoned_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # 1, 2, … in chain order
    Column("at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),  # read | principal.add | grant.revoke | request.approve | …
    Column("product", String(200)),
    Column("port", String(100)),
    Column("snapshot", String(64)),
    Column("statement", Text),  # literals replaced by placeholders; never values
    Column("rows", BigInteger),
    Column("decision", String(10)),  # allow | deny
    Column("reason", Text),
    Column("data", JSON, nullable=False),
    Column("prev", String(64), nullable=False),  # the previous row's mac ('' for the first)
    Column("mac", String(64), nullable=False),  # HMAC-SHA256 over prev and this row's content
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_product", "product"),
    Index("ix_audit_log_actor", "actor"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),  # one row, id 1: the chain's last seq and mac
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),
    Column("writes", BigInteger, nullable=False),  # bumped first by every append: takes the row lock
)

report_renders = Table(
    "report_renders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product_key", String(200), nullable=False),
    Column("port", String(100), nullable=False),
    # the snapshot reported on: the rendering goes with it when gc removes it
    Column("snapshot_id", String(64), ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("previous_id", String(64)),  # the snapshot it was compared with
    Column("descriptor_id", String(64)),  # the published descriptor whose template rendered it
    Column("format", String(10), nullable=False),  # html | pdf
    Column("fingerprint", String(64), nullable=False),  # what the reader saw: template and secured reads
    Column("principal", String(200), nullable=False),  # rendered as
    Column("trigger", String(20), nullable=False),  # on-demand | schedule
    Column("tick", DateTime),  # the schedule tick it was rendered for
    Column("sha256", String(64), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("rendered_at", DateTime, nullable=False),
    UniqueConstraint("fingerprint", "format", name="uq_report_renders_fingerprint"),
    Index("ix_report_renders_product", "product_key", "port", "rendered_at"),
)

report_ticks = Table(
    "report_ticks",
    metadata,
    Column("product_key", String(200), primary_key=True),
    Column("port", String(100), primary_key=True),
    Column("tick", DateTime, primary_key=True),  # one claim per scheduled tick, across processes
    Column("claimed_by", String(200), nullable=False),
    Column("claimed_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("renders", JSON, nullable=False),  # [render id, …]
    Column("error", Text),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),  # of the session's secret: the cookie is never stored
    Column("principal_id", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # token: a catalog principal | oidc: claims-made, below
    Column("principal", JSON),  # an OIDC principal as its claims made it at sign-in
    Column("token_id", String(64)),  # the API token signed in with: its revocation ends the session
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Index("ix_web_sessions_principal", "principal_id"),
)
