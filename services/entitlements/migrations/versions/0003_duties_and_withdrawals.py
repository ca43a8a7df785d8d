"""Separation of duties on contracts and featured services; withdrawn value-added periods.

- `contracts` and `featured_services`: the decider differs from the proposer (a CHECK, as the
  honorary tables guard their trail in the database). Added `NOT VALID`: rows decided before this
  revision are kept as they were (an audit record is not rewritten); every new decision is checked.
- `periods`: the policies counted when a tier decision opened the period (`counted_policies`), and
  the date a late cooling-off cancellation withdrew it (`withdrawn_on`, state `withdrawn`).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_CHECKS = (
    ("contracts", "ck_contracts_decider_is_not_signer", "decided_by IS NULL OR decided_by <> signed_by"),
    (
        "featured_services",
        "ck_featured_services_decider_is_not_registrar",
        "decided_by IS NULL OR decided_by <> registered_by",
    ),
)


def upgrade() -> None:
    for table, name, condition in _CHECKS:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")
    op.add_column("periods", sa.Column("counted_policies", ARRAY(sa.String(64))))
    op.add_column("periods", sa.Column("withdrawn_on", sa.Date))


def downgrade() -> None:
    op.drop_column("periods", "withdrawn_on")
    op.drop_column("periods", "counted_policies")
    for table, name, _ in _CHECKS:
        op.drop_constraint(name, table, type_="check")
