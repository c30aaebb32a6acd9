"""Rendered reports, kept with the snapshots they used, and the claims of scheduled report ticks
(one row per product, port and tick: exactly one process renders each tick).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_renders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product_key", sa.String(200), nullable=False),
        sa.Column("port", sa.String(100), nullable=False),
        sa.Column("snapshot_id", sa.String(64), sa.ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("previous_id", sa.String(64)),
        sa.Column("descriptor_id", sa.String(64)),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("tick", sa.DateTime),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("rendered_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("fingerprint", "format", name="uq_report_renders_fingerprint"),
    )
    op.create_index("ix_report_renders_product", "report_renders", ["product_key", "port", "rendered_at"])
    op.create_table(
        "report_ticks",
        sa.Column("product_key", sa.String(200), primary_key=True),
        sa.Column("port", sa.String(100), primary_key=True),
        sa.Column("tick", sa.DateTime, primary_key=True),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("renders", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("report_ticks")
    op.drop_index("ix_report_renders_product", "report_renders")
    op.drop_table("report_renders")
