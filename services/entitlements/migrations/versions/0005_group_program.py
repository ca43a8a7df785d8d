"""The group program (rules.md section 9): group clients as entitlements sees them, their level
history, and the service records (附件三-六).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("level_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("level", sa.String(32)),
        sa.Column("evaluated_level", sa.String(32)),
        sa.Column("approved_level", sa.String(32)),
        sa.Column("score", sa.Numeric(12, 4), nullable=False, server_default="0"),
        sa.Column("scale", sa.Numeric(12, 4)),
        sa.Column("loyalty", sa.Numeric(12, 4)),
        sa.Column("profit", sa.Numeric(12, 4)),
        sa.Column("evaluated_on", sa.Date),
        sa.Column("level_effective_at", sa.Date),
        sa.Column("branch", sa.String(64)),
        sa.Column("manager_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("manager_id", sa.String(64)),
        sa.Column("manager_name", sa.String(200)),
        sa.Column("manager_branch", sa.String(64)),
        sa.Column("feedback_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_group_clients_level", "group_clients", ["level"])
    op.create_table(
        "group_level_history",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32)),
        sa.Column("previous_level", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("effective_at", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_group_level_history_client", "group_level_history", ["client_id", "effective_at"])
    op.create_index("ix_group_level_history_effective_at", "group_level_history", ["effective_at"])
    op.create_table(
        "group_records",
        sa.Column("record_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("level", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("manager_id", sa.String(64)),
        sa.Column("cost", sa.Numeric(14, 2), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("verified", sa.Boolean),
        sa.Column("average", sa.Numeric(4, 2)),
        sa.Column("details", postgresql.JSONB, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_group_records_client", "group_records", ["client_id", "occurred_on"])
    op.create_index(
        "ix_group_records_open_complaints", "group_records", ["received_at"],
        postgresql_where=sa.text("kind = 'complaint' AND resolved_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("group_records")
    op.drop_table("group_level_history")
    op.drop_table("group_clients")
