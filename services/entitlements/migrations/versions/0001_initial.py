"""Customers, tier changes, value-added periods, vendors, contracts, featured services,
redemptions and their idempotency answers, inbox and outbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, *, required: bool = True) -> sa.Column:  # type: ignore[type-arg]
    if required:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    return sa.Column(name, sa.DateTime(timezone=True))


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("tier_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tier", sa.String(16)),
        sa.Column("computed_tier", sa.String(16)),
        sa.Column("honorary_tier", sa.String(16)),
        sa.Column("standard", sa.String(8), nullable=False, server_default="2015"),
        sa.Column("points", sa.Numeric(18, 2), nullable=False, server_default="0"),
        sa.Column("vip_since", sa.Date),
        sa.Column("serving_channel", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("tier_effective_at", sa.Date),
        sa.Column("representative_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("representative", postgresql.JSONB),
        _timestamp("updated_at"),
    )
    op.create_table(
        "tier_changes",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("tier", sa.String(16)),
    )
    op.create_table(
        "periods",
        sa.Column("period_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("start_on", sa.Date, nullable=False),
        sa.Column("end_on", sa.Date, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(32), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("periods_one_open_per_customer", "periods", ["customer_id"], unique=True,
                    postgresql_where=sa.text("state = 'open'"))
    op.create_index("periods_open_by_end", "periods", ["end_on"], postgresql_where=sa.text("state = 'open'"))
    op.create_table(
        "vendors",
        sa.Column("vendor_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _timestamp("created_at"),
    )
    op.create_table(
        "contracts",
        sa.Column("contract_id", sa.String(64), primary_key=True),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("vendor_id", sa.String(64), sa.ForeignKey("vendors.vendor_id"), nullable=False),
        sa.Column("unit_cost", sa.Numeric(18, 2), nullable=False),
        sa.Column("branch", sa.String(64)),
        sa.Column("reach", postgresql.ARRAY(sa.String(64))),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("signed_by", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decision_comment", sa.Text),
        _timestamp("created_at"),
        _timestamp("decided_at", required=False),
    )
    op.create_index("contracts_by_service", "contracts", ["service_code"])
    op.create_table(
        "featured_services",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("branch", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("tiers", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("yearly_quota", sa.SmallInteger),
        sa.Column("vendor_id", sa.String(64), sa.ForeignKey("vendors.vendor_id")),
        sa.Column("unit_cost", sa.Numeric(18, 2), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decision_comment", sa.Text),
        _timestamp("created_at"),
        _timestamp("decided_at", required=False),
    )
    op.create_index("featured_services_by_branch", "featured_services", ["branch"])
    op.create_table(
        "redemptions",
        sa.Column("redemption_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("featured", sa.Boolean, nullable=False),
        sa.Column("period_id", sa.BigInteger, sa.ForeignKey("periods.period_id")),
        sa.Column("vendor_id", sa.String(64)),
        sa.Column("contract_id", sa.String(64)),
        sa.Column("unit_cost", sa.Numeric(18, 2), nullable=False),
        sa.Column("bearer_kind", sa.String(16), nullable=False),
        sa.Column("bearer", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("branch", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("redeemed_on", sa.Date, nullable=False),
        _timestamp("redeemed_at"),
        sa.Column("redeemed_by", sa.String(64), nullable=False),
        _timestamp("reversed_at", required=False),
        sa.Column("reversed_by", sa.String(64)),
        sa.Column("reversal_reason", sa.Text),
    )
    op.create_index("redemptions_usage", "redemptions", ["customer_id", "service_code", "period_id"])
    op.create_index("redemptions_by_day", "redemptions", ["redeemed_on"])
    op.create_table(
        "redemption_requests",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=False),
        sa.Column("body", postgresql.JSON, nullable=False),
        _timestamp("created_at"),
    )


def downgrade() -> None:
    for table in ("redemption_requests", "redemptions", "featured_services", "contracts", "vendors",
                  "periods", "tier_changes", "customers"):
        op.drop_table(table)
