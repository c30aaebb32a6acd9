"""The catalog as the registry: published descriptors, file blobs, mesh descriptors, ownership,
run leases and build claims. Per-checkout caches (file hashes, code digests) leave the shared
catalog for each checkout's local state (``.quanta/state.db``).

Descriptors of products published before this revision are filled in from their snapshots'
manifests by :func:`quanta.catalog.backfill.backfill_descriptors` (the migration itself cannot
reach snapshot storage).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("mesh", sa.String(100)))
        batch.add_column(sa.Column("descriptor_id", sa.String(64)))
        batch.create_index("ix_products_ref", ["ref"])
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("descriptor_id", sa.String(64)))
    with op.batch_alter_table("build_runs") as batch:
        batch.add_column(sa.Column("mesh", sa.String(100)))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime))
    op.create_table(
        "descriptors",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("product_key", sa.String(200), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("mesh", sa.String(100)),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_descriptors_product", "descriptors", ["product_key", "created_at"])
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "meshes",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("descriptor_id", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "build_claims",
        sa.Column("product_key", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
    )
    # a run still marked running was cut off by the upgrade's predecessor: it has no lease, so it
    # shows as abandoned from now on
    op.drop_table("file_hashes")
    op.drop_table("code_digests")


def downgrade() -> None:
    op.create_table(
        "code_digests",
        sa.Column("raw_sha256", sa.String(64), primary_key=True),
        sa.Column("normalised_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "file_hashes",
        sa.Column("path", sa.String(1000), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    for table in ("build_claims", "meshes", "blobs", "descriptors"):
        op.drop_table(table)
    with op.batch_alter_table("build_runs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("mesh")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("descriptor_id")
    with op.batch_alter_table("products") as batch:
        batch.drop_index("ix_products_ref")
        batch.drop_column("descriptor_id")
        batch.drop_column("mesh")
