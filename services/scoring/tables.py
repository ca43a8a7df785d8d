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
    Column("next_pending_date", Date, index=True, comment="when the daily run must look again"),
    Column("scored_as_of", Date, nullable=False, comment="the business date of the last scoring"),
    Column("trigger", String(64), nullable=False, comment="event type or daily_run"),
    Column("ruleset_version", String(64), nullable=False),
    Column("policies", JSONB, nullable=False, comment="per-policy breakdown, as published"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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

reconciliations = Table(
    "reconciliations",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("policy_no", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False, comment="the snapshot's version, applied"),
    Column("previous_version", Integer, comment="the version held before; null: the policy was unknown"),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    comment="policy_reconciled events applied (vip reconcile --publish), migration 0003",
)
