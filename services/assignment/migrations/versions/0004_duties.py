"""The representative's duties: CRM customer profiles (birthdays), work items, campaigns, and the
years whose holiday items were generated.

Revision ID: 0004
Revises: 0005 (the group program's 0005 revises 0003 and landed first: one head)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0005"
branch_labels = None
depends_on = None

PENDING_ITEM = "state IN ('open', 'overdue')"


def upgrade() -> None:
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("birthday", sa.Date),
        sa.Column("branch", sa.String(64), nullable=False),
        sa.Column("profile_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_customer_profiles_branch", "customer_profiles", ["branch"])
    op.create_table(
        "work_items",
        sa.Column("item_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("duty", sa.String(32), nullable=False),
        sa.Column("occasion", sa.Text, nullable=False),
        sa.Column("occasion_key", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("opens_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("channels", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("campaign_id", sa.BigInteger),
        sa.Column("done_on", sa.Date),
        sa.Column("done_channel", sa.String(16)),
        sa.Column("done_by_agent", sa.String(64)),
        sa.Column("done_by_user", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ux_work_items_occasion", "work_items", ["customer_id", "occasion_key"], unique=True)
    op.create_index(
        "ix_work_items_work_list", "work_items", ["agent_id", "due_on", "item_id"],
        postgresql_where=sa.text(PENDING_ITEM),
    )
    op.create_index("ix_work_items_falling_due", "work_items", ["due_on"], postgresql_where=sa.text("state = 'open'"))
    op.create_index("ix_work_items_year_agent", "work_items", ["year", "agent_id"])
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("duty", sa.String(32), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("items", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "holiday_years",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("generated_on", sa.Date, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("holiday_years")
    op.drop_table("campaigns")
    op.drop_table("work_items")
    op.drop_table("customer_profiles")
