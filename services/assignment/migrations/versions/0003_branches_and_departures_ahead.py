"""The customer's branch (pools take its people first) and departures announced ahead.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ASSIGNABLE = "profile_at IS NOT NULL AND eligible AND departed_at IS NULL AND disqualified_at IS NULL"


def upgrade() -> None:
    op.add_column("customers", sa.Column("branch", sa.String(64)))
    op.add_column("agents", sa.Column("departs_on", sa.Date))
    op.create_index(
        "ix_agents_assignable_by_branch_load",
        "agents",
        ["channel", "branch", "load", "agent_id"],
        postgresql_where=sa.text(ASSIGNABLE),
    )
    op.create_index(
        "ix_agents_pending_departure",
        "agents",
        ["departs_on", "agent_id"],
        postgresql_where=sa.text("departs_on IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_agents_pending_departure", table_name="agents")
    op.drop_index("ix_agents_assignable_by_branch_load", table_name="agents")
    op.drop_column("agents", "departs_on")
    op.drop_column("customers", "branch")
