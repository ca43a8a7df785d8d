"""The scoring database: the latest state of every policy, each customer's current score, what was
ignored as stale, and the daily runs done. The inbox and outbox come from `shared.migrations`."""

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, Numeric, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

policies = Table(
    "policies",
    metadata,
    Column("policy_no", String(64), primary_key=True),
    Column("holder_id", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("state", JSONB, nullable=False, comment="PolicyState as the last applied event carried it"),
    Column("last_event_type", String(64), nullable=False),
    Column("before_cutover", JSONB, comment="PolicyState of the version in force on the day before cutover"),
    Column("before_cutover_holder_id", String(64), comment="the holder that version names"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False, comment="rises with every CustomerScored published"),
    Column("points", Numeric(18, 2), nullable=False),
    Column("standard_premium", Numeric(18, 2), nullable=False),
    Column("pending_points", Numeric(18, 2), nullable=False),
    Column("serving_channel", String(32)),
    Column("next_pending_date", Date, comment="the day pending points start to count: the daily run looks again"),
    Column("scored_as_of", Date, nullable=False, comment="the business date of the last scoring"),
    Column("trigger", String(64), nullable=False, comment="event type or daily_run"),
    Column("ruleset_version", String(64), nullable=False),
    Column("policies", JSONB, nullable=False, comment="per-policy breakdown, as published"),
    Column("legacy_standard_premium_before_cutover", Numeric(18, 2), comment="None: held no policy then"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_customers_next_pending_date_customer_id", customers.c.next_pending_date, customers.c.customer_id)
Index(
    "ix_policies_before_cutover_holder_id",
    policies.c.before_cutover_holder_id,
    postgresql_where=policies.c.before_cutover_holder_id.is_not(None),
)

stale_policy_events = Table(
    "stale_policy_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("policy_no", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("version", Integer, nullable=False, comment="the version the stale event carried"),
    Column("applied_version", Integer, nullable=False, comment="the version already applied"),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_stale_policy_events_policy_no", stale_policy_events.c.policy_no)

daily_runs = Table(
    "daily_runs",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("changed", Integer, nullable=False, comment="customers re-scored by the last run for the date"),
    Column("runs", Integer, nullable=False, comment="how many times the date was run"),
    Column("ran_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# --- the group program (rules.md section 9) -----------------------------------------------------------

group_clients = Table(
    "group_clients",
    metadata,
    Column("client_id", String(64), primary_key=True, comment="the holder id of its group policies"),
    Column("revision", Integer, nullable=False, comment="rises with every GroupClientScored published"),
    Column("profile", JSONB, comment="GroupClientProfile as the CRM last described it; null until then"),
    Column("annual_standard_premium", Numeric(18, 2), nullable=False),
    Column("in_force_policies", Integer, nullable=False),
    Column("scored_as_of", Date, nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("ruleset_version", String(64), nullable=False, comment="the group ruleset's"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

group_experience = Table(
    "group_experience",
    metadata,
    Column("client_id", String(64), primary_key=True, comment="kept even before the client is known"),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, primary_key=True),
    Column("earned_premium", Numeric(18, 2), nullable=False),
    Column("incurred_claims", Numeric(18, 2), nullable=False),
    Column("event_id", String(64), nullable=False, comment="the report that set these figures"),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)

reconciliations = Table(
    "reconciliations",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("policy_no", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False, comment="the snapshot's version, applied"),
    Column("previous_version", Integer, comment="the version held before; null: the policy was unknown"),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="policy_reconciled events applied (vip reconcile --publish), migration 0005",
)
