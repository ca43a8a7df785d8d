"""A year's holiday items are generated a chunk of VIPs at a time: the year's row says whether its
last chunk is written (a run stopped half-way resumes it). The B-tree on work items' (year, agent),
which no query needed whole, becomes a BRIN index on the year (docs/duties.md, Scale).

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("holiday_years", sa.Column("complete", sa.Boolean, nullable=False, server_default="true"))
    op.drop_index("ix_work_items_year_agent", table_name="work_items")
    op.create_index("ix_work_items_year", "work_items", ["year"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("ix_work_items_year", table_name="work_items")
    op.create_index("ix_work_items_year_agent", "work_items", ["year", "agent_id"])
    op.drop_column("holiday_years", "complete")
