"""The tiering database: each customer's tiering state and the history of their tier decisions."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("score_revision", Integer, nullable=False, comment="revision of the last CustomerScored applied"),
    Column("score", JSONB, comment="the last CustomerScored applied, as it was published"),
    Column("legacy_vip_before_cutover", Boolean, nullable=False),
    Column("legacy_on_roster", Boolean, nullable=False),
    Column("legacy_roster_since", Date),
    Column("legacy_fell_below", Boolean, nullable=False, comment="below legacy Gold on or after cutover"),
    Column("standard", String(16), comment="of the last decision"),
    Column("tier", String(16), comment="effective tier of the last decision"),
    Column("honorary_tier", String(16)),
    Column("honorary_expires_on", Date),
    Column("honorary_channel", String(32), comment="filing channel of the honorary grant (migration 0004)"),
    Column("honorary_branch", String(64), comment="filing branch of the honorary grant (migration 0004)"),
    Column("crm_branch", String(64), comment="branch of the CRM profile (migration 0004)"),
    Column("next_due_on", Date, index=True, comment="when the daily run must look again"),
    Column("revision", Integer, nullable=False, comment="rises with every TierDecided published"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tier_decisions = Table(
    "tier_decisions",
    metadata,
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), primary_key=True),
    Column("revision", Integer, primary_key=True, comment="the TierDecided revision"),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("correlation_id", String(64), nullable=False),
    Column("tier", String(16)),
    Column("computed_tier", String(16)),
    Column("honorary_tier", String(16)),
    Column("previous_tier", String(16)),
    Column("standard", String(16), nullable=False),
    Column("points", Numeric(18, 2), nullable=False),
    Column("vip_since", Date),
    Column("effective_at", Date, nullable=False),
    Column("serving_channel", String(32)),
    Column("branch", String(64), comment="the customer's branch (migration 0004)"),
    Column("pending_points", Numeric(18, 2), nullable=False, server_default="0", comment="migration 0004"),
    Column("pending_from", Date, comment="migration 0004"),
    Column("trigger", String(64), nullable=False),
    Column("ruleset_version", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# --- honorary VIP applications (rules.md section 5; see honorary.py) ---------------------------------
# The audit trail is append-only: migration 0002 adds triggers that refuse any UPDATE, DELETE or
# TRUNCATE of `honorary_decisions` and `honorary_endings`, and any change to what was filed (or a
# DELETE) on `honorary_applications`, whose only mutable columns are the `state`/`next_step` index.

honorary_applications = Table(
    "honorary_applications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("tier", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("expires_on", Date),
    Column("channel", String(32), comment="filing channel (migration 0004)"),
    Column("branch", String(64), comment="filing branch (migration 0004)"),
    Column("filed_by", String(64), nullable=False, comment="Principal.user_id of the applicant"),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False, comment="follows from the decisions and the ending"),
    Column("next_step", String(32), comment="the step waiting for a decision; null once closed"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("tier IN ('gold', 'platinum', 'diamond')", name="ck_honorary_applications_tier"),
    CheckConstraint(
        "state IN ('pending', 'approved', 'rejected', 'revoked', 'expired', 'superseded')",
        name="ck_honorary_applications_state",
    ),
    CheckConstraint("(state = 'pending') = (next_step IS NOT NULL)", name="ck_honorary_applications_next_step"),
    Index(
        "uq_honorary_applications_open_per_customer",
        "customer_id",
        unique=True,
        postgresql_where=text("state = 'pending'"),
    ),
    Index(
        "uq_honorary_applications_granted_per_customer",
        "customer_id",
        unique=True,
        postgresql_where=text("state = 'approved'"),
    ),
    Index("ix_honorary_applications_waiting", "state", "next_step", "filed_at"),
    Index("ix_honorary_applications_expiry", "expires_on", postgresql_where=text("state = 'approved'")),
)

honorary_decisions = Table(
    "honorary_decisions",
    metadata,
    Column("application_id", String(64), ForeignKey("honorary_applications.id"), primary_key=True),
    Column("step_number", SmallInteger, primary_key=True, comment="1..5: one decision per step"),
    Column("step", String(32), nullable=False),
    Column("decided_by", String(64), nullable=False, comment="Principal.user_id"),
    Column("role", String(32), nullable=False, comment="the role the step needs, held by the user"),
    Column("verdict", String(8), nullable=False),
    Column("comment", Text),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("step_number BETWEEN 1 AND 5", name="ck_honorary_decisions_step_number"),
    CheckConstraint("verdict IN ('approve', 'reject')", name="ck_honorary_decisions_verdict"),
    UniqueConstraint("application_id", "decided_by", name="uq_honorary_decisions_one_step_per_user"),
)

honorary_endings = Table(
    "honorary_endings",
    metadata,
    Column("application_id", String(64), ForeignKey("honorary_applications.id"), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("ended_by", String(64), nullable=False, comment="user id, daily_run, or the superseding application"),
    Column("comment", Text),
    Column("effective_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('revoked', 'expired', 'superseded')", name="ck_honorary_endings_kind"),
)
