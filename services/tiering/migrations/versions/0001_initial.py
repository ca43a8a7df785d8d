"""Customers' tiering state, tier decisions, inbox and outbox.

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
        "customers",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("score_revision", sa.Integer, nullable=False),
        sa.Column("score", postgresql.JSONB),
        sa.Column("legacy_vip_before_cutover", sa.Boolean, nullable=False),
        sa.Column("legacy_on_roster", sa.Boolean, nullable=False),
        sa.Column("legacy_roster_since", sa.Date),
        sa.Column("legacy_fell_below", sa.Boolean, nullable=False),
        sa.Column("standard", sa.String(16)),
        sa.Column("tier", sa.String(16)),
        sa.Column("honorary_tier", sa.String(16)),
        sa.Column("honorary_expires_on", sa.Date),
        sa.Column("next_due_on", sa.Date),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_customers_next_due_on", "customers", ["next_due_on"])
    op.create_table(
        "tier_decisions",
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16)),
        sa.Column("computed_tier", sa.String(16)),
        sa.Column("honorary_tier", sa.String(16)),
        sa.Column("previous_tier", sa.String(16)),
        sa.Column("standard", sa.String(16), nullable=False),
        sa.Column("points", sa.Numeric(18, 2), nullable=False),
        sa.Column("vip_since", sa.Date),
        sa.Column("effective_at", sa.Date, nullable=False),
        sa.Column("serving_channel", sa.String(32)),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("ruleset_version", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("tier_decisions")
    op.drop_table("customers")
