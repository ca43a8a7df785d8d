"""The history of tier decisions: one row per `TierDecided` published, never changed afterwards.

Not on `IdentityMap`: the rows are append-only and keyed by (customer, revision), so there is
nothing to load, lock or update. A decision is recorded under its customer's lock (taken through
`CustomerRepository.lock`, which also fixes the revision), buffered in memory, and every decision of
a batch is inserted in one statement by `flush`, after the customers' own flush (foreign key).
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.domain.tiers import TierDecision
from services.tiering.tables import customers, tier_decisions
from shared.events.values import Channel, Standard, Tier
from shared.sql import any_of, insert_rows

SHOWN = (
    select(tier_decisions)
    .join(
        customers,
        and_(
            customers.c.customer_id == tier_decisions.c.customer_id,
            customers.c.revision == tier_decisions.c.revision,
        ),
    )
    .where(any_of(customers.c.customer_id, "customer_ids"))
)
"""The last decision of each customer: read under the customers' locks, so `revision` cannot move."""


def _tier(value: str | None) -> Tier | None:
    return Tier(value) if value is not None else None


def _value(member: Enum | None) -> Any:
    return member.value if member is not None else None


def decision_of(row: Mapping[Any, Any]) -> TierDecision:
    channel = row["serving_channel"]
    return TierDecision(
        tier=_tier(row["tier"]),
        computed_tier=_tier(row["computed_tier"]),
        honorary_tier=_tier(row["honorary_tier"]),
        previous_tier=_tier(row["previous_tier"]),
        standard=Standard(row["standard"]),
        points=Decimal(row["points"]),
        vip_since=row["vip_since"],
        effective_at=row["effective_at"],
        serving_channel=Channel(channel) if channel is not None else None,
        trigger=row["trigger"],
        ruleset_version=row["ruleset_version"],
        reason=row["reason"],
        branch=row["branch"],
        pending_points=Decimal(row["pending_points"]),
        pending_from=row["pending_from"],
    )


class TierDecisionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._recorded: list[dict[str, Any]] = []

    def save_decision(
        self, customer_id: str, *, revision: int, event_id: str, correlation_id: str, decision: TierDecision
    ) -> None:
        """Buffer the decision published as `event_id` with the customer's `revision`."""
        self._recorded.append(
            {
                "customer_id": customer_id,
                "revision": revision,
                "event_id": event_id,
                "correlation_id": correlation_id,
                "tier": _value(decision.tier),
                "computed_tier": _value(decision.computed_tier),
                "honorary_tier": _value(decision.honorary_tier),
                "previous_tier": _value(decision.previous_tier),
                "standard": decision.standard.value,
                "points": decision.points,
                "vip_since": decision.vip_since,
                "effective_at": decision.effective_at,
                "serving_channel": _value(decision.serving_channel),
                "branch": decision.branch,
                "pending_points": decision.pending_points,
                "pending_from": decision.pending_from,
                "trigger": decision.trigger,
                "ruleset_version": decision.ruleset_version,
                "reason": decision.reason,
            }
        )

    async def flush(self) -> None:
        """Insert every decision recorded since the last flush, in one statement."""
        if not self._recorded:
            return
        rows, self._recorded = self._recorded, []
        await insert_rows(self._connection, tier_decisions, rows)

    async def shown(self, customer_ids: Sequence[str]) -> dict[str, TierDecision]:
        """The last decision published for each of the customers (locked by the caller), in one statement."""
        if not customer_ids:
            return {}
        rows = await self._connection.execute(SHOWN, {"customer_ids": list(customer_ids)})
        return {row.customer_id: decision_of(row._mapping) for row in rows}

    async def history(self, customer_id: str) -> list[TierDecision]:
        """Every decision for the customer, newest first."""
        rows = await self._connection.execute(
            select(tier_decisions)
            .where(tier_decisions.c.customer_id == customer_id)
            .order_by(tier_decisions.c.revision.desc())
        )
        return [decision_of(row._mapping) for row in rows]
