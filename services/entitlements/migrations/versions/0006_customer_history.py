"""Issue 16 item 2: every tier decision and representative change applied, with the day it holds from
(`effective_on`) and when it was recorded (`recorded_at`), so the call center can ask for any past day.

Customers already stored get one row per kind from their current state (their last applied
revision, effective from the day that decision held from; the representative from the day the row
was last written, the only date kept for it): earlier days of those customers answer "not known".

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_history",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True, comment="tier | representative"),
        sa.Column("revision", sa.Integer, primary_key=True, comment="the applied event's revision"),
        sa.Column("effective_on", sa.Date, nullable=False, comment="the event's effective_at: it holds from this day"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("state", JSONB, nullable=False, comment="the customer's fields of this kind after the event"),
    )
    op.execute(
        """
        INSERT INTO customer_history (customer_id, kind, revision, effective_on, recorded_at, state)
        SELECT customer_id, 'tier', tier_revision, tier_effective_at, updated_at, jsonb_build_object(
            'tier', tier, 'computed_tier', computed_tier, 'honorary_tier', honorary_tier, 'standard', standard,
            'points', points::text, 'vip_since', vip_since, 'serving_channel', serving_channel, 'branch', branch,
            'pending_points', pending_points::text, 'pending_from', pending_from)
        FROM customers WHERE tier_revision > 0 AND tier_effective_at IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO customer_history (customer_id, kind, revision, effective_on, recorded_at, state)
        SELECT customer_id, 'representative', representative_revision, updated_at::date, updated_at,
            jsonb_build_object('representative', representative)
        FROM customers WHERE representative_revision > 0
        """
    )


def downgrade() -> None:
    op.drop_table("customer_history")
