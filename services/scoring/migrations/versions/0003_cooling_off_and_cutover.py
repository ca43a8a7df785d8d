"""Cooling-off's new boundary, the policies as they stood before cutover, and a keyset index for the
daily run.

- `customers.next_pending_date` is now the day pending points start to count, the day after the
  cooling-off's last day (rules.md section 4): stored dates, computed under the old boundary, move one
  day later.
- `policies.before_cutover` (with its holder, partially indexed): each policy's version in force on
  the day before cutover; `customers.legacy_standard_premium_before_cutover`: the figure published.
- `customers (next_pending_date, customer_id)`: the daily run walks due customers in this order, so
  one index both filters and orders (replaces the date-only index).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE customers SET next_pending_date = next_pending_date + 1 WHERE next_pending_date IS NOT NULL")
    op.create_index("ix_customers_next_pending_date_customer_id", "customers", ["next_pending_date", "customer_id"])
    op.drop_index("ix_customers_next_pending_date", table_name="customers")
    op.add_column("customers", sa.Column("legacy_standard_premium_before_cutover", sa.Numeric(18, 2)))
    op.add_column("policies", sa.Column("before_cutover", postgresql.JSONB))
    op.add_column("policies", sa.Column("before_cutover_holder_id", sa.String(64)))
    op.create_index(
        "ix_policies_before_cutover_holder_id",
        "policies",
        ["before_cutover_holder_id"],
        postgresql_where=sa.text("before_cutover_holder_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_policies_before_cutover_holder_id", table_name="policies")
    op.drop_column("policies", "before_cutover_holder_id")
    op.drop_column("policies", "before_cutover")
    op.drop_column("customers", "legacy_standard_premium_before_cutover")
    op.create_index("ix_customers_next_pending_date", "customers", ["next_pending_date"])
    op.drop_index("ix_customers_next_pending_date_customer_id", table_name="customers")
    op.execute("UPDATE customers SET next_pending_date = next_pending_date - 1 WHERE next_pending_date IS NOT NULL")
