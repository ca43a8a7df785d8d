"""Policies, customers' scores, stale policy events, daily runs, inbox and outbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "policies",
        sa.Column("policy_no", sa.String(64), primary_key=True),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", postgresql.JSONB, nullable=False),
        sa.Column("last_event_type", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_policies_holder_id", "policies", ["holder_id"])
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("points", sa.Numeric(18, 2), nullable=False),
        sa.Column("standard_premium", sa.Numeric(18, 2), nullable=False),
        sa.Column("pending_points", sa.Numeric(18, 2), nullable=False),
        sa.Column("serving_channel", sa.String(32)),
        sa.Column("next_pending_date", sa.Date),
        sa.Column("scored_as_of", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("ruleset_version", sa.String(64), nullable=False),
        sa.Column("policies", postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_customers_next_pending_date", "customers", ["next_pending_date"])
    op.create_table(
        "stale_policy_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("policy_no", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("applied_version", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_stale_policy_events_policy_no", "stale_policy_events", ["policy_no"])
    op.create_table(
        "daily_runs",
        sa.Column("as_of", sa.Date, primary_key=True),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("daily_runs")
    op.drop_table("stale_policy_events")
    op.drop_table("customers")
    op.drop_table("policies")
