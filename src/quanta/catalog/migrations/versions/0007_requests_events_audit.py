"""Access requests, the event store (with webhook delivery state), the tamper-evident audit log
and its head, and catalog grants that expire at an instant rather than at the end of a day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime))
        batch.add_column(sa.Column("request_id", sa.Integer))
        batch.add_column(sa.Column("expiry_warned_at", sa.DateTime))
        batch.add_column(sa.Column("expiry_noted_at", sa.DateTime))
    grants = sa.table("access_grants", sa.column("id"), sa.column("expires"), sa.column("expires_at"))
    connection = op.get_bind()
    for row in connection.execute(sa.select(grants.c.id, grants.c.expires).where(grants.c.expires.is_not(None))):
        last_day = row.expires if not isinstance(row.expires, str) else datetime.fromisoformat(row.expires).date()
        ends = datetime.combine(last_day, time()) + timedelta(days=1)  # the end of its last valid day, UTC
        connection.execute(sa.update(grants).where(grants.c.id == row.id).values(expires_at=ends))
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_column("expires")

    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("major", sa.Integer, nullable=False),
        sa.Column("principal_id", sa.String(200), nullable=False),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("unmask", sa.JSON, nullable=False),
        sa.Column("duration_s", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("note", sa.Text),
        sa.Column("grant_id", sa.Integer),
    )
    op.create_index("ix_access_requests_status", "access_requests", ["status"])
    op.create_index("ix_access_requests_product", "access_requests", ["product"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("delivered_at", sa.DateTime),
        sa.Column("abandoned_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_pending", "events", ["delivered_at", "abandoned_at"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("product", sa.String(200)),
        sa.Column("port", sa.String(100)),
        sa.Column("snapshot", sa.String(64)),
        sa.Column("statement", sa.Text),
        sa.Column("rows", sa.BigInteger),
        sa.Column("decision", sa.String(10)),
        sa.Column("reason", sa.Text),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_product", "audit_log", ["product"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("writes", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("mac"), sa.column("writes")),
        [{"id": 1, "seq": 0, "mac": "", "writes": 0}],
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_actor", "audit_log")
    op.drop_index("ix_audit_log_product", "audit_log")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_events_pending", "events")
    op.drop_index("ix_events_at", "events")
    op.drop_table("events")
    op.drop_index("ix_access_requests_product", "access_requests")
    op.drop_index("ix_access_requests_status", "access_requests")
    op.drop_table("access_requests")
    with op.batch_alter_table("access_grants") as batch:
        batch.add_column(sa.Column("expires", sa.Date))
    grants = sa.table("access_grants", sa.column("id"), sa.column("expires"), sa.column("expires_at"))
    connection = op.get_bind()
    for row in connection.execute(sa.select(grants.c.id, grants.c.expires_at).where(grants.c.expires_at.is_not(None))):
        moment = row.expires_at if not isinstance(row.expires_at, str) else datetime.fromisoformat(row.expires_at)
        connection.execute(
            sa.update(grants).where(grants.c.id == row.id).values(expires=(moment - timedelta(microseconds=1)).date())
        )
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_column("request_id")
        batch.drop_column("expiry_warned_at")
        batch.drop_column("expiry_noted_at")
        batch.drop_column("expires_at")
