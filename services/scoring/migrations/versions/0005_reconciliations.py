"""Reconciliations applied: one row per `policy_reconciled` event that corrected a policy.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("policy_no", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("previous_version", sa.Integer),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        comment="policy_reconciled events applied (vip reconcile --publish), migration 0003",
    )
    op.create_index("ix_reconciliations_policy_no", "reconciliations", ["policy_no"])


def downgrade() -> None:
    op.drop_table("reconciliations")
