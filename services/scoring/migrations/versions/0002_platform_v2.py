"""Durable dead letters, the daily-run log, the append-only audit log, and the inbox index for its purge.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared.migrations import create_platform_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables()


def downgrade() -> None:
    op.drop_index("inbox_processed_at", table_name="inbox")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_is_append_only()")
    op.drop_table("daily_run_log")
    op.drop_table("dead_letters")
