"""The entitlements database: customers as the call center sees them, value-added periods,
redemptions with their idempotency answers, vendors, contracts and branch featured services."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB

from shared.messaging_tables import add_messaging_tables

metadata = MetaData()
inbox, outbox = add_messaging_tables(metadata)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column(
        "tier_revision", Integer, nullable=False, server_default="0", comment="revision of the last TierDecided applied"
    ),
    Column("tier", String(16)),
    Column("computed_tier", String(16)),
    Column("honorary_tier", String(16)),
    Column("standard", String(8), nullable=False, server_default="2015"),
    Column("points", Numeric(18, 2), nullable=False, server_default="0"),
    Column("vip_since", Date),
    Column("serving_channel", String(32)),
    Column("branch", String(64), comment="branch of the main policy in the serving channel"),
    Column("tier_effective_at", Date),
    Column("pending_points", Numeric(18, 2), nullable=False, server_default="0", comment="waiting for cooling-off"),
    Column("pending_from", Date, comment="the day the earliest pending points count"),
    Column(
        "representative_revision",
        Integer,
        nullable=False,
        server_default="0",
        comment="revision of the last RepresentativeChanged applied",
    ),
    Column("representative", JSONB, comment="{agent_id, name, channel} or null"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tier_changes = Table(
    "tier_changes",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("effective_on", Date, nullable=False),
    Column("tier", String(16)),
)

periods = Table(
    "periods",
    metadata,
    Column("period_id", BigInteger, Identity(always=True), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("start_on", Date, nullable=False),
    Column("end_on", Date, nullable=False, comment="last day of the period, inclusive"),
    Column("state", String(16), nullable=False, comment="open | replaced | ended | withdrawn"),
    Column("opened_by", String(32), nullable=False, comment="tier_decided | roll_over"),
    Column("counted_policies", ARRAY(String(64)), comment="policies counting when a tier decision opened it"),
    Column("withdrawn_on", Date, comment="the late cooling-off cancellation's date that withdrew it"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("periods_one_open_per_customer", periods.c.customer_id, unique=True, postgresql_where=text("state = 'open'"))
Index("periods_open_by_end", periods.c.end_on, postgresql_where=text("state = 'open'"))

vendors = Table(
    "vendors",
    metadata,
    Column("vendor_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

contracts = Table(
    "contracts",
    metadata,
    Column("contract_id", String(64), primary_key=True),
    Column("service_code", String(64), nullable=False),
    Column("vendor_id", String(64), ForeignKey("vendors.vendor_id"), nullable=False),
    Column("unit_cost", Numeric(18, 2), nullable=False),
    Column("branch", String(64), comment="null: an HQ contract"),
    Column("reach", ARRAY(String(64)), comment="HQ contract: branches reached; null = every branch"),
    Column("state", String(16), nullable=False, comment="pending | approved | rejected"),
    Column("signed_by", String(64), nullable=False),
    Column("decided_by", String(64)),
    Column("decision_comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint("decided_by IS NULL OR decided_by <> signed_by", name="ck_contracts_decider_is_not_signer"),
)
Index("contracts_by_service", contracts.c.service_code)

featured_services = Table(
    "featured_services",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("branch", String(64), nullable=False),
    Column("category", String(16), nullable=False),
    Column("tiers", ARRAY(String(16)), nullable=False),
    Column("yearly_quota", SmallInteger),
    Column("vendor_id", String(64), ForeignKey("vendors.vendor_id")),
    Column("unit_cost", Numeric(18, 2), nullable=False),
    Column("state", String(16), nullable=False, comment="pending | approved | rejected"),
    Column("registered_by", String(64), nullable=False),
    Column("decided_by", String(64)),
    Column("decision_comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint(
        "decided_by IS NULL OR decided_by <> registered_by", name="ck_featured_services_decider_is_not_registrar"
    ),
)
Index("featured_services_by_branch", featured_services.c.branch)

redemptions = Table(
    "redemptions",
    metadata,
    Column("redemption_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("service_code", String(64), nullable=False),
    Column("featured", Boolean, nullable=False),
    Column("period_id", BigInteger, ForeignKey("periods.period_id"), comment="null for basic services"),
    Column("vendor_id", String(64)),
    Column("contract_id", String(64)),
    Column("unit_cost", Numeric(18, 2), nullable=False),
    Column("bearer_kind", String(16), nullable=False, comment="hq | channel | branch"),
    Column("bearer", String(64), nullable=False),
    Column("channel", String(32), comment="the customer's serving channel at redemption"),
    Column("branch", String(64), comment="the customer's branch at redemption"),
    Column("note", Text),
    Column("redeemed_on", Date, nullable=False, comment="insurer's local date"),
    Column("redeemed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("redeemed_by", String(64), nullable=False),
    Column("reversed_at", DateTime(timezone=True)),
    Column("reversed_by", String(64)),
    Column("reversal_reason", Text),
)
Index("redemptions_usage", redemptions.c.customer_id, redemptions.c.service_code, redemptions.c.period_id)
Index("redemptions_by_day", redemptions.c.redeemed_on)

redemption_requests = Table(
    "redemption_requests",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False, comment="digest of code, vendor_id and note"),
    Column("status_code", SmallInteger, nullable=False),
    Column("body", JSON, nullable=False, comment="json, not jsonb: a replay returns the same bytes"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# --- the group program (rules.md section 9) -----------------------------------------------------------

group_clients = Table(
    "group_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("level_revision", Integer, nullable=False, server_default="0", comment="of the last GroupLevelDecided"),
    Column("level", String(32), comment="effective level; null: a regular client"),
    Column("evaluated_level", String(32)),
    Column("approved_level", String(32)),
    Column("score", Numeric(12, 4), nullable=False, server_default="0"),
    Column("scale", Numeric(12, 4)),
    Column("loyalty", Numeric(12, 4)),
    Column("profit", Numeric(12, 4)),
    Column("evaluated_on", Date),
    Column("level_effective_at", Date),
    Column("branch", String(64)),
    Column("manager_revision", Integer, nullable=False, server_default="0", comment="of AccountManagerChanged"),
    Column("manager_id", String(64)),
    Column("manager_name", String(200)),
    Column("manager_branch", String(64)),
    Column("feedback_revision", Integer, nullable=False, server_default="0", comment="of GroupFeedbackReported"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_group_clients_level", group_clients.c.level)

group_level_history = Table(
    "group_level_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("level", String(32)),
    Column("previous_level", String(32)),
    Column("branch", String(64)),
    Column("effective_at", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_group_level_history_client", group_level_history.c.client_id, group_level_history.c.effective_at)
Index("ix_group_level_history_effective_at", group_level_history.c.effective_at)

group_records = Table(
    "group_records",
    metadata,
    Column("record_id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False, comment="domain.group_records.RecordKind"),
    Column("service_code", String(64), nullable=False, comment="the catalog service it counts against"),
    Column("occurred_on", Date, nullable=False, comment="the service's date (a consultation's: received)"),
    Column("level", String(32), comment="the client's level when recorded"),
    Column("branch", String(64)),
    Column("manager_id", String(64), comment="the account manager when recorded"),
    Column("cost", Numeric(14, 2), nullable=False, comment="actual cost (default: the level's unit cost)"),
    Column("received_at", DateTime(timezone=True), comment="consultations and complaints"),
    Column("resolved_at", DateTime(timezone=True)),
    Column("verified", Boolean),
    Column("average", Numeric(4, 2), comment="surveys: the average of the scores"),
    Column("details", JSONB, nullable=False, comment="the form's own fields (附件三-六)"),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_group_records_client", group_records.c.client_id, group_records.c.occurred_on)
Index(
    "ix_group_records_open_complaints", group_records.c.received_at,
    postgresql_where=text("kind = 'complaint' AND resolved_at IS NULL"),
)
