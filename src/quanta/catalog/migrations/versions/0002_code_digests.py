"""Memo of normalised code digests, so unchanged SQL is not parsed again on every plan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_digests",
        sa.Column("raw_sha256", sa.String(64), primary_key=True),
        sa.Column("normalised_sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("code_digests")
