"""Access: principals (users and service accounts with roles, team and attributes), API tokens
(only their SHA-256) and SCRAM-SHA-256 password verifiers for SQL clients.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("display_name", sa.Text),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("team", sa.String(100)),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("admin", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("principal_id", sa.String(200), sa.ForeignKey("principals.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("last_used_at", sa.DateTime),
    )
    op.create_index("ix_api_tokens_principal", "api_tokens", ["principal_id"])
    op.create_table(
        "scram_verifiers",
        sa.Column(
            "principal_id",
            sa.String(200),
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("verifier", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("scram_verifiers", "api_tokens", "principals"):
        op.drop_table(table)
