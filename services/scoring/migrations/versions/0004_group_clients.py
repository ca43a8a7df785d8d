"""The group program's clients (their book as scored) and the claims experience reported for them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("profile", postgresql.JSONB),
        sa.Column("annual_standard_premium", sa.Numeric(18, 2), nullable=False),
        sa.Column("in_force_policies", sa.Integer, nullable=False),
        sa.Column("scored_as_of", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("ruleset_version", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "group_experience",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("period_end", sa.Date, primary_key=True),
        sa.Column("earned_premium", sa.Numeric(18, 2), nullable=False),
        sa.Column("incurred_claims", sa.Numeric(18, 2), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("group_experience")
    op.drop_table("group_clients")
