"""Issue 17: the call center shows pending points and the day they count from (additive fields of
`GET /v1/customers/{id}`), stored on the customer row so the look-up stays one primary-key read.

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
    op.add_column(
        "customers", sa.Column("pending_points", sa.Numeric(18, 2), nullable=False, server_default="0")
    )
    op.add_column("customers", sa.Column("pending_from", sa.Date))


def downgrade() -> None:
    op.drop_column("customers", "pending_from")
    op.drop_column("customers", "pending_points")
