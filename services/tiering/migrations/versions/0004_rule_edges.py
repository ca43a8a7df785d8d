"""Issue 17: the customer's branch and pending points in every decision, the CRM branch, and the
filing channel and branch of honorary applications (and of the grant a customer holds).

Every new column is nullable or has a default: existing rows read as before (no branch, nothing
pending, no filing channel). The filed columns of `honorary_applications` are only ever inserted.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("honorary_channel", sa.String(32)))
    op.add_column("customers", sa.Column("honorary_branch", sa.String(64)))
    op.add_column("customers", sa.Column("crm_branch", sa.String(64)))
    op.add_column("tier_decisions", sa.Column("branch", sa.String(64)))
    op.add_column(
        "tier_decisions", sa.Column("pending_points", sa.Numeric(18, 2), nullable=False, server_default="0")
    )
    op.add_column("tier_decisions", sa.Column("pending_from", sa.Date))
    op.add_column("honorary_applications", sa.Column("channel", sa.String(32)))
    op.add_column("honorary_applications", sa.Column("branch", sa.String(64)))


def downgrade() -> None:
    op.drop_column("honorary_applications", "branch")
    op.drop_column("honorary_applications", "channel")
    op.drop_column("tier_decisions", "pending_from")
    op.drop_column("tier_decisions", "pending_points")
    op.drop_column("tier_decisions", "branch")
    op.drop_column("customers", "crm_branch")
    op.drop_column("customers", "honorary_branch")
    op.drop_column("customers", "honorary_channel")
