"""Tiering's batch statements, built once: each reads or writes a whole batch in one execution.

The writes take one array per column and `unnest` them, so a statement's text never depends on how
many rows it carries: PostgreSQL plans it once per connection and runs it once per batch, where an
executemany runs it once per row and a multi-row VALUES list is a new statement for every size.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Text, and_, any_, bindparam, cast, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from services.tiering.tables import customers, tier_decisions

_CUSTOMER_IDS = cast(bindparam("customer_ids"), ARRAY(Text))

NEW_CUSTOMERS = text(
    "INSERT INTO customers (customer_id, score_revision, legacy_vip_before_cutover, legacy_on_roster, "
    "legacy_fell_below, revision) "
    "SELECT k, 0, false, false, false, 0 FROM unnest(CAST(:customer_ids AS text[])) AS k ORDER BY k "
    "ON CONFLICT (customer_id) DO NOTHING"
)
"""Creates the customers never seen, in customer-id order (as `LOCK_CUSTOMERS` then locks them)."""

LOCK_CUSTOMERS = (
    select(customers)
    .where(customers.c.customer_id == any_(_CUSTOMER_IDS))
    .order_by(customers.c.customer_id)
    .with_for_update()
)

SHOWN_DECISIONS = (
    select(tier_decisions)
    .join(
        customers,
        and_(
            customers.c.customer_id == tier_decisions.c.customer_id,
            customers.c.revision == tier_decisions.c.revision,
        ),
    )
    .where(customers.c.customer_id == any_(_CUSTOMER_IDS))
)
"""The last decision of each customer: read after `LOCK_CUSTOMERS`, so `revision` cannot move."""

CUSTOMER_COLUMNS = {
    "customer_id": "text",
    "score_revision": "int",
    "score": "text",
    "legacy_vip_before_cutover": "boolean",
    "legacy_on_roster": "boolean",
    "legacy_roster_since": "date",
    "legacy_fell_below": "boolean",
    "standard": "text",
    "tier": "text",
    "honorary_tier": "text",
    "honorary_expires_on": "date",
    "next_due_on": "date",
    "revision": "int",
}

DECISION_COLUMNS = {
    "customer_id": "text",
    "revision": "int",
    "event_id": "text",
    "correlation_id": "text",
    "tier": "text",
    "computed_tier": "text",
    "honorary_tier": "text",
    "previous_tier": "text",
    "standard": "text",
    "points": "numeric",
    "vip_since": "date",
    "effective_at": "date",
    "serving_channel": "text",
    "trigger": "text",
    "ruleset_version": "text",
    "reason": "text",
}


def _unnest(columns: Mapping[str, str]) -> str:
    arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in columns.items())
    return f"unnest({arrays}) AS u({', '.join(columns)})"


SAVE_CUSTOMERS = text(
    "UPDATE customers AS c SET "
    + ", ".join(
        f"{name} = u.{name}" + ("::jsonb" if name == "score" else "")
        for name in CUSTOMER_COLUMNS
        if name != "customer_id"
    )
    + ", updated_at = now() FROM "
    + _unnest(CUSTOMER_COLUMNS)
    + " WHERE c.customer_id = u.customer_id"
)
"""Writes every saved customer; the score goes in as the JSON pydantic wrote, cast by PostgreSQL."""

RECORD_DECISIONS = text(
    f"INSERT INTO tier_decisions ({', '.join(DECISION_COLUMNS)}) "
    f"SELECT {', '.join(f'u.{name}' for name in DECISION_COLUMNS)} FROM {_unnest(DECISION_COLUMNS)}"
)


def as_arrays(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]) -> dict[str, list[Any]]:
    """Rows as one list per column, for the `unnest` statements above."""
    return {name: [row[name] for row in rows] for name in columns}
