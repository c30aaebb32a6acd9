"""Catalog grants (given by an admin now, by approved access requests later) and the access
generation: one counter bumped with every change to principals, tokens or grants, so every process
sees such a change on its next statement.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("major", sa.Integer),
        sa.Column("role", sa.String(100)),
        sa.Column("principal_id", sa.String(200)),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("row_filter", sa.Text),
        sa.Column("unmask", sa.JSON, nullable=False),
        sa.Column("masks", sa.JSON, nullable=False),
        sa.Column("purpose", sa.Text),
        sa.Column("expires", sa.Date),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("revoked_by", sa.String(200)),
    )
    op.create_index("ix_access_grants_product", "access_grants", ["product"])
    op.create_table(
        "access_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("access_generation", sa.column("id"), sa.column("generation")), [{"id": 1, "generation": 1}]
    )


def downgrade() -> None:
    op.drop_table("access_generation")
    op.drop_index("ix_access_grants_product", "access_grants")
    op.drop_table("access_grants")
