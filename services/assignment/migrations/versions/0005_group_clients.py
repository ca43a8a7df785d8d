"""The group program's clients with their account service manager (rules.md section 9).

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("level_revision", sa.Integer, nullable=False),
        sa.Column("level", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("manager_id", sa.String(64)),
        sa.Column("manager_name", sa.String(200)),
        sa.Column("manager_branch", sa.String(64)),
        sa.Column("since", sa.Date),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("unassigned_since", sa.Date),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_group_clients_manager_id", "group_clients", ["manager_id"])
    op.create_index(
        "ix_group_clients_unassigned", "group_clients", ["client_id"],
        postgresql_where=sa.text("level IS NOT NULL AND manager_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("group_clients")
