"""Read-only figures for operations: customers whose cooling-off, once over, lifts them a tier.

Explicit selects on scoring's own tables; the dashboard and `/metrics` read them through `ops_api`.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.tables import customers
from shared.events.values import Standard, Tier
from shared.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class PendingUpgrade:
    due_on: date
    to_tier: Tier
    customers: int


def tier_on_2015_points(points: Decimal, ruleset: Ruleset) -> Tier | None:
    """The highest 2015 tier whose inclusive lower bound `points` reach; None below Gold."""
    thresholds = ruleset.thresholds[Standard.Y2015]
    reached = [tier for tier in Tier if points >= thresholds.lower_bound(tier)]
    return max(reached, key=_rank) if reached else None


def _rank(tier: Tier | None) -> int:
    return 0 if tier is None else tier.rank


async def pending_upgrades(connection: AsyncConnection, *, ruleset: Ruleset) -> list[PendingUpgrade]:
    """Per due date and tier reached: customers whose counted 2015 points plus their pending points
    reach a higher tier than the counted points alone (interpretation: judged on the 2015 standard,
    on the date their next pending policy starts to count)."""
    statement = select(customers.c.next_pending_date, customers.c.points, customers.c.pending_points).where(
        customers.c.next_pending_date.is_not(None), customers.c.pending_points > 0
    )
    counts: dict[tuple[date, Tier], int] = {}
    for due_on, points, pending in (await connection.execute(statement)).all():
        after = tier_on_2015_points(points + pending, ruleset)
        if after is not None and _rank(after) > _rank(tier_on_2015_points(points, ruleset)):
            counts[(due_on, after)] = counts.get((due_on, after), 0) + 1
    return [
        PendingUpgrade(due_on=due_on, to_tier=tier, customers=count)
        for (due_on, tier), count in sorted(counts.items(), key=lambda item: (item[0][0], _rank(item[0][1])))
    ]
