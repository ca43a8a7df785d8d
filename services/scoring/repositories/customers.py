"""Customers' scores as last determined and published: one row of `customers` per customer.

Every path that re-scores a customer (a policy event, the daily run) first takes the customer's
advisory lock ("scoring-customer", `lock`, in customer-id order), and only then reads the policies
the customer holds: two transactions can never both score a customer from policies the other is
changing and publish the older picture last. The revision is counted here, not by the database:
under the lock no other transaction writes the customer before this one commits.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain.customers import CustomerScore
from services.scoring.mapping import policy_score_document
from services.scoring.tables import customers
from shared.identity_map import IdentityMap


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    """One row of `customers` (every column but `updated_at`, which the database keeps)."""

    customer_id: str
    revision: int
    points: Decimal
    standard_premium: Decimal
    pending_points: Decimal
    serving_channel: str | None
    next_pending_date: date | None
    scored_as_of: date
    trigger: str
    ruleset_version: str
    policies: tuple[dict[str, Any], ...]
    """Each policy's score document (`mapping.policy_score_document`), as published."""


_COLUMNS = tuple(column.name for column in customers.columns if column.server_default is None)
if tuple(field.name for field in fields(StoredCustomer)) != _COLUMNS:
    raise AssertionError("StoredCustomer must name the columns of `customers`, in their order")


def _stored_of(row: Mapping[str, Any]) -> StoredCustomer:
    values = {name: row[name] for name in _COLUMNS}
    return StoredCustomer(**values | {"policies": tuple(row["policies"])})


def _row_of(stored: StoredCustomer) -> dict[str, Any]:
    row = {name: getattr(stored, name) for name in _COLUMNS}
    return row | {"policies": list(stored.policies)}


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[StoredCustomer](
            connection,
            table=customers,
            key="customer_id",
            lock_scope="scoring-customer",
            value_of=_stored_of,
            row_of=_row_of,
        )

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Serialise re-scoring per customer until the transaction ends (and load the customers)."""
        await self._map.lock(customer_ids)

    async def get(self, customer_id: str) -> StoredCustomer | None:
        return await self._map.get(customer_id)

    async def save_score(
        self, customer_id: str, score: CustomerScore, *, as_of: date, trigger: str, ruleset_version: str
    ) -> int:
        """Store the score (written at `flush`); returns the customer's new revision."""
        current = await self._map.get(customer_id)
        revision = current.revision + 1 if current else 1
        stored = StoredCustomer(
            customer_id=customer_id,
            revision=revision,
            points=score.points,
            standard_premium=score.standard_premium,
            pending_points=score.pending_points,
            serving_channel=score.serving_channel.value if score.serving_channel else None,
            next_pending_date=score.next_pending_date,
            scored_as_of=as_of,
            trigger=trigger,
            ruleset_version=ruleset_version,
            policies=tuple(policy_score_document(policy) for policy in score.policies),
        )
        self._map.save(customer_id, stored)
        return revision

    async def flush(self) -> None:
        await self._map.flush()

    async def due(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Customers with a pending policy whose cooling-off ends on or before `as_of` (by index)."""
        rows = await self._connection.execute(
            select(customers.c.customer_id)
            .where(customers.c.next_pending_date <= as_of, customers.c.customer_id > after)
            .order_by(customers.c.customer_id)
            .limit(limit)
        )
        return list(rows.scalars())
