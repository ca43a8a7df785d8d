"""Honorary VIP applications, their step decisions and endings: an append-only audit trail.

Triggers refuse any UPDATE, DELETE or TRUNCATE of `honorary_decisions` and `honorary_endings`, and on
`honorary_applications` any DELETE or change to what was filed (only `state`, `next_step` and
`updated_at`, an index of the trail, may change).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FUNCTIONS = (
    """
CREATE FUNCTION honorary_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the honorary audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    """
CREATE FUNCTION honorary_filing_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.id, NEW.customer_id, NEW.tier, NEW.reason, NEW.expires_on, NEW.filed_by,
                            NEW.filed_at)
        IS DISTINCT FROM (OLD.id, OLD.customer_id, OLD.tier, OLD.reason, OLD.expires_on, OLD.filed_by,
                          OLD.filed_at) THEN
        RAISE EXCEPTION 'an honorary application as filed is never edited or deleted (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
""",
)

# (trigger, events, table, for each, function)
_TRIGGERS = (
    ("honorary_applications_filing_fixed", "UPDATE OR DELETE", "honorary_applications", "ROW",
     "honorary_filing_is_fixed"),
    ("honorary_applications_no_truncate", "TRUNCATE", "honorary_applications", "STATEMENT",
     "honorary_audit_is_append_only"),
    ("honorary_decisions_append_only", "UPDATE OR DELETE", "honorary_decisions", "ROW",
     "honorary_audit_is_append_only"),
    ("honorary_decisions_no_truncate", "TRUNCATE", "honorary_decisions", "STATEMENT",
     "honorary_audit_is_append_only"),
    ("honorary_endings_append_only", "UPDATE OR DELETE", "honorary_endings", "ROW",
     "honorary_audit_is_append_only"),
    ("honorary_endings_no_truncate", "TRUNCATE", "honorary_endings", "STATEMENT",
     "honorary_audit_is_append_only"),
)


def upgrade() -> None:
    op.create_table(
        "honorary_applications",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_step", sa.String(32)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("tier IN ('gold', 'platinum', 'diamond')", name="ck_honorary_applications_tier"),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected', 'revoked', 'expired', 'superseded')",
            name="ck_honorary_applications_state",
        ),
        sa.CheckConstraint(
            "(state = 'pending') = (next_step IS NOT NULL)", name="ck_honorary_applications_next_step"
        ),
    )
    op.create_index("ix_honorary_applications_customer_id", "honorary_applications", ["customer_id"])
    op.create_index(
        "uq_honorary_applications_open_per_customer",
        "honorary_applications",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "uq_honorary_applications_granted_per_customer",
        "honorary_applications",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("state = 'approved'"),
    )
    op.create_index(
        "ix_honorary_applications_waiting", "honorary_applications", ["state", "next_step", "filed_at"]
    )
    op.create_index(
        "ix_honorary_applications_expiry",
        "honorary_applications",
        ["expires_on"],
        postgresql_where=sa.text("state = 'approved'"),
    )
    op.create_table(
        "honorary_decisions",
        sa.Column(
            "application_id", sa.String(64), sa.ForeignKey("honorary_applications.id"), primary_key=True
        ),
        sa.Column("step_number", sa.SmallInteger, primary_key=True),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("step_number BETWEEN 1 AND 5", name="ck_honorary_decisions_step_number"),
        sa.CheckConstraint("verdict IN ('approve', 'reject')", name="ck_honorary_decisions_verdict"),
        sa.UniqueConstraint("application_id", "decided_by", name="uq_honorary_decisions_one_step_per_user"),
    )
    op.create_table(
        "honorary_endings",
        sa.Column(
            "application_id", sa.String(64), sa.ForeignKey("honorary_applications.id"), primary_key=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ended_by", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('revoked', 'expired', 'superseded')", name="ck_honorary_endings_kind"),
    )
    for function in _FUNCTIONS:
        op.execute(function)
    for name, events, table, level, function_name in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {events} ON {table} FOR EACH {level} EXECUTE FUNCTION {function_name}()"
        )


def downgrade() -> None:
    op.drop_table("honorary_endings")
    op.drop_table("honorary_decisions")
    op.drop_table("honorary_applications")
    op.execute("DROP FUNCTION honorary_filing_is_fixed()")
    op.execute("DROP FUNCTION honorary_audit_is_append_only()")
