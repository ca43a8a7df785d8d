"""Customers on the shared identity map, and their tier timeline (the `tier_changes` rows).

Every change of a customer's standing, every redemption and reversal and every roll-over of their
period first takes the customer's advisory lock (`lock(ids)`, scope `entitlements-customer`, in key
order for a whole batch), then reads the customer: they are applied one at a time, and a customer
never seen is locked like a stored one (the map answers None for them).
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.customers import Customer, Representative
from services.entitlements.domain.periods import TierTimeline
from services.entitlements.tables import customers, tier_changes
from shared.events.values import Channel, Standard, Tier
from shared.identity_map import IdentityMap
from shared.sql import any_of, insert_rows

LOCK_SCOPE = "entitlements-customer"
_WRITTEN = tuple(column.name for column in customers.columns if column.name != "updated_at")


def tier_or_none(value: str | None) -> Tier | None:
    return Tier(value) if value is not None else None


def _representative(stored: Mapping[str, Any] | None) -> Representative | None:
    if not stored:
        return None
    return Representative(agent_id=stored["agent_id"], name=stored["name"], channel=Channel(stored["channel"]))


def _customer(row: Mapping[str, Any]) -> Customer:
    return Customer(
        customer_id=row["customer_id"],
        tier_revision=row["tier_revision"],
        tier=tier_or_none(row["tier"]),
        computed_tier=tier_or_none(row["computed_tier"]),
        honorary_tier=tier_or_none(row["honorary_tier"]),
        standard=Standard(row["standard"]),
        points=row["points"],
        vip_since=row["vip_since"],
        serving_channel=row["serving_channel"],
        branch=row["branch"],
        tier_effective_at=row["tier_effective_at"],
        pending_points=row["pending_points"],
        pending_from=row["pending_from"],
        representative_revision=row["representative_revision"],
        representative=_representative(row["representative"]),
    )


def _stored(value: Any) -> Any:
    """A field as its column holds it: enums by value, the representative as its JSON object."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Representative):
        return {"agent_id": value.agent_id, "name": value.name, "channel": value.channel.value}
    return value


def _row(customer: Customer) -> dict[str, Any]:
    return {name: _stored(getattr(customer, name)) for name in _WRITTEN}


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map: IdentityMap[Customer] = IdentityMap(
            connection, table=customers, key="customer_id", lock_scope=LOCK_SCOPE, value_of=_customer, row_of=_row
        )
        self._tier_changes: dict[tuple[str, int], dict[str, Any]] = {}

    async def lock(self, customer_ids: Iterable[str]) -> None:
        await self._map.lock(customer_ids)

    async def get(self, customer_id: str) -> Customer | None:
        return await self._map.get(customer_id)

    def save_customer(self, customer: Customer) -> None:
        """Written at `flush`; the caller holds the customer's lock (the map checks it)."""
        self._map.save(customer.customer_id, customer)

    def save_tier_change(self, customer: Customer) -> None:
        """Adds the customer's tier at `tier_revision` to their timeline (kept once per revision)."""
        assert customer.tier_effective_at is not None
        self._tier_changes.setdefault(
            (customer.customer_id, customer.tier_revision),
            {
                "customer_id": customer.customer_id,
                "revision": customer.tier_revision,
                "effective_on": customer.tier_effective_at,
                "tier": customer.tier.value if customer.tier else None,
            },
        )

    async def flush(self) -> None:
        await self._map.flush()
        if self._tier_changes:
            rows = list(self._tier_changes.values())
            self._tier_changes.clear()
            await insert_rows(self._connection, tier_changes, rows, skip_conflicts=True)

    async def timelines(self, customer_ids: Sequence[str]) -> dict[str, TierTimeline]:
        """Each customer's tier changes in the order they were applied (by revision)."""
        rows = await self._connection.execute(
            select(tier_changes.c.customer_id, tier_changes.c.effective_on, tier_changes.c.tier)
            .where(any_of(tier_changes.c.customer_id, "customer_ids"))
            .order_by(tier_changes.c.customer_id, tier_changes.c.revision),
            {"customer_ids": list(customer_ids)},
        )
        changes: dict[str, list[tuple[date, Tier | None]]] = {customer_id: [] for customer_id in customer_ids}
        for row in rows:
            changes[row.customer_id].append((row.effective_on, tier_or_none(row.tier)))
        return {customer_id: TierTimeline(changes=tuple(found)) for customer_id, found in changes.items()}
