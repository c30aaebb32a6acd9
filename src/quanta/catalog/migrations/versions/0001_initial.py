"""Initial catalog: products, snapshots, current pointers, lineage, build runs and steps, file hashes.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("major", sa.Integer, nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("product_key", sa.String(200), sa.ForeignKey("products.key"), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("published_at", sa.DateTime),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("spec_fingerprint", sa.String(64), nullable=False),
        sa.Column("code_fingerprint", sa.String(64), nullable=False),
        sa.Column("inputs_fingerprint", sa.String(64), nullable=False),
        sa.Column("schema", sa.JSON, nullable=False),
    )
    op.create_index("ix_snapshots_product_published", "snapshots", ["product_key", "published_at"])
    op.create_table(
        "current_snapshots",
        sa.Column("product_key", sa.String(200), sa.ForeignKey("products.key"), primary_key=True),
        sa.Column("snapshot_id", sa.String(64), sa.ForeignKey("snapshots.id"), nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "lineage",
        sa.Column("snapshot_id", sa.String(64), sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("input_id", sa.String(100), primary_key=True),
        sa.Column("input_type", sa.String(50), nullable=False),
        sa.Column("upstream_key", sa.String(200)),
        sa.Column("upstream_snapshot_id", sa.String(64)),
        sa.Column("system", sa.String(100)),
        sa.Column("source", sa.Text),
        sa.Column("fingerprint", sa.String(128), nullable=False),
    )
    op.create_table(
        "build_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),
        sa.Column("duration_s", sa.Float),
    )
    op.create_table(
        "build_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("build_runs.id"), nullable=False),
        sa.Column("product_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("rows", sa.BigInteger),
        sa.Column("snapshot_id", sa.String(64)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_build_steps_product", "build_steps", ["product_key", "started_at"])
    op.create_table(
        "file_hashes",
        sa.Column("path", sa.String(1000), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("file_hashes", "build_steps", "build_runs", "lineage", "current_snapshots", "snapshots", "products"):
        op.drop_table(table)
