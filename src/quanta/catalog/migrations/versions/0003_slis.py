"""Service level indicators: every check's measurement, with its snapshot and time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slis",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product_key", sa.String(200), nullable=False),
        sa.Column("snapshot_id", sa.String(64)),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("observed", sa.Float),
        sa.Column("operator", sa.String(4), nullable=False),
        sa.Column("limit", sa.Float, nullable=False),
        sa.Column("blocking", sa.Boolean, nullable=False),
        sa.Column("measured_at", sa.DateTime, nullable=False),
        sa.Column("message", sa.Text),
    )
    op.create_index("ix_slis_product_check", "slis", ["product_key", "check_id", "measured_at"])


def downgrade() -> None:
    op.drop_table("slis")
