"""Agents, customers with their representative, contacts, representative history, inbox and outbox.

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

ASSIGNABLE = "profile_at IS NOT NULL AND eligible AND departed_at IS NULL AND disqualified_at IS NULL"


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "agents",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("channel", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("role", sa.String(32)),
        sa.Column("top_performer", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("eligible", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("profile_at", sa.DateTime(timezone=True)),
        sa.Column("departed_on", sa.Date),
        sa.Column("departed_at", sa.DateTime(timezone=True)),
        sa.Column("disqualified_at", sa.DateTime(timezone=True)),
        sa.Column("disqualification_reason", sa.Text),
        sa.Column("load", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "ix_agents_assignable_by_load",
        "agents",
        ["channel", "load", "agent_id"],
        postgresql_where=sa.text(ASSIGNABLE),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("tier_revision", sa.Integer, nullable=False),
        sa.Column("tier", sa.String(16)),
        sa.Column("serving_channel", sa.String(32)),
        sa.Column("policies", postgresql.JSONB, nullable=False),
        sa.Column("service_person_ids", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("representative_id", sa.String(64)),
        sa.Column("basis", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("since", sa.Date),
        sa.Column("revisable_by", postgresql.ARRAY(sa.String(64)), nullable=False, server_default="{}"),
        sa.Column("top_performers_first", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("unassigned_since", sa.Date),
        sa.Column("unassigned_reason", sa.Text),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_customers_representative_id", "customers", ["representative_id"])
    op.create_index(
        "ix_customers_unassigned",
        "customers",
        ["serving_channel", "customer_id"],
        postgresql_where=sa.text("tier IS NOT NULL AND representative_id IS NULL"),
    )
    op.create_index("ix_customers_revisable_by", "customers", ["revisable_by"], postgresql_using="gin")
    op.create_index(
        "ix_customers_service_person_ids", "customers", ["service_person_ids"], postgresql_using="gin"
    )
    op.create_table(
        "contacts",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), primary_key=True),
    )
    op.create_table(
        "representative_history",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("agent_name", sa.String(200)),
        sa.Column("agent_channel", sa.String(32)),
        sa.Column("basis", sa.String(32)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("effective_at", sa.Date, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause_event_id", sa.String(64), nullable=False),
        sa.Column("cause_event_type", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_representative_history_customer", "representative_history", ["customer_id", "id"])


def downgrade() -> None:
    op.drop_table("representative_history")
    op.drop_table("contacts")
    op.drop_table("customers")
    op.drop_table("agents")
