"""The group program: clients' evaluation state, the evaluations' history; applications gain a
program and their chain as data (honorary and group designations share the machinery).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_INDIVIDUAL_CHAIN = "'{branch_ops,branch_gm,hq_business,hq_customer_service,hq_executive}'::varchar[]"

_FILING_IS_FIXED = """
CREATE OR REPLACE FUNCTION honorary_filing_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.id, NEW.program, NEW.customer_id, NEW.tier, NEW.chain, NEW.reason, NEW.expires_on,
                            NEW.filed_by, NEW.filed_at)
        IS DISTINCT FROM (OLD.id, OLD.program, OLD.customer_id, OLD.tier, OLD.chain, OLD.reason, OLD.expires_on,
                          OLD.filed_by, OLD.filed_at) THEN
        RAISE EXCEPTION 'an application as filed is never edited or deleted (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column(
        "honorary_applications", sa.Column("program", sa.String(16), nullable=False, server_default="individual")
    )
    op.add_column(
        "honorary_applications",
        sa.Column("chain", postgresql.ARRAY(sa.String(32)), nullable=False, server_default=sa.text(_INDIVIDUAL_CHAIN)),
    )
    op.alter_column("honorary_applications", "tier", type_=sa.String(32))
    op.drop_constraint("ck_honorary_applications_tier", "honorary_applications")
    op.create_check_constraint(
        "ck_honorary_applications_tier", "honorary_applications",
        "program <> 'individual' OR tier IN ('gold', 'platinum', 'diamond')",
    )
    op.drop_constraint("ck_honorary_decisions_step_number", "honorary_decisions")
    op.create_check_constraint("ck_honorary_decisions_step_number", "honorary_decisions", "step_number >= 1")
    for name in ("uq_honorary_applications_open_per_customer", "uq_honorary_applications_granted_per_customer"):
        state = "pending" if "open" in name else "approved"
        op.drop_index(name, table_name="honorary_applications")
        op.create_index(
            name, "honorary_applications", ["program", "customer_id"], unique=True,
            postgresql_where=sa.text(f"state = '{state}'"),
        )
    op.execute(_FILING_IS_FIXED)
    op.create_table(
        "group_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("scored_revision", sa.Integer, nullable=False),
        sa.Column("branch", sa.String(64)),
        sa.Column("client_since", sa.Date),
        sa.Column("annual_standard_premium", sa.Numeric(18, 2), nullable=False),
        sa.Column("in_force_policies", sa.Integer, nullable=False),
        sa.Column("experience", postgresql.JSONB, nullable=False),
        sa.Column("feedback_revision", sa.Integer, nullable=False),
        sa.Column("verified_complaints", sa.Integer, nullable=False),
        sa.Column("survey_average", sa.Numeric(6, 4)),
        sa.Column("survey_on", sa.Date),
        sa.Column("evaluated_level", sa.String(32)),
        sa.Column("score", sa.Numeric(12, 4), nullable=False),
        sa.Column("scale", sa.Numeric(12, 4), nullable=False),
        sa.Column("loyalty", sa.Numeric(12, 4), nullable=False),
        sa.Column("profit", sa.Numeric(12, 4), nullable=False),
        sa.Column("evaluated_on", sa.Date),
        sa.Column("approved_level", sa.String(32)),
        sa.Column("approved_expires_on", sa.Date),
        sa.Column("approved_application", sa.String(64)),
        sa.Column("level", sa.String(32)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "group_evaluations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("evaluated_on", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32)),
        sa.Column("score", sa.Numeric(12, 4), nullable=False),
        sa.Column("scale", sa.Numeric(12, 4), nullable=False),
        sa.Column("loyalty", sa.Numeric(12, 4), nullable=False),
        sa.Column("profit", sa.Numeric(12, 4), nullable=False),
        sa.Column("inputs", postgresql.JSONB, nullable=False),
        sa.Column("ruleset_version", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_group_evaluations_client", "group_evaluations", ["client_id", "evaluated_on"])


def downgrade() -> None:
    op.drop_table("group_evaluations")
    op.drop_table("group_clients")
    # The applications keep their `program` and `chain` columns: the audit trail is never rewritten, and
    # group designations filed meanwhile stay readable.
    for name in ("uq_honorary_applications_open_per_customer", "uq_honorary_applications_granted_per_customer"):
        state = "pending" if "open" in name else "approved"
        op.drop_index(name, table_name="honorary_applications")
        op.create_index(
            name, "honorary_applications", ["customer_id"], unique=True, postgresql_where=sa.text(f"state = '{state}'")
        )
