"""Operations figures of scoring: customers whose cooling-off, once over, lifts them a tier.

`GET /v1/ops/cooling-off` (role `ops`) and the `vip_cooling_off_pending_upgrades` gauge on `/metrics`
read the same explicit select on scoring's own table. The ruleset is the one `main.create_app`
loaded; tiers come from its thresholds (`Ruleset.tier_for`), the same lookup tiering uses.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.scoring.api.dependencies import Transactions
from services.scoring.tables import customers
from shared.api import PROBLEMS, CurrentRuleset, Ops
from shared.events.values import Standard, Tier
from shared.metrics import BusinessRefresh, ServiceMetrics, set_labelled
from shared.ruleset import Ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"], responses=PROBLEMS)


@dataclass(frozen=True, slots=True)
class PendingUpgrade:
    due_on: date
    to_tier: Tier
    customers: int


def tier_on_2015_points(points: Decimal, ruleset: Ruleset) -> Tier | None:
    """The highest 2015 tier whose inclusive lower bound `points` reach; None below Gold."""
    return ruleset.tier_for(points, standard=Standard.Y2015)


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


def gauges(engine: AsyncEngine, ruleset: Ruleset) -> BusinessRefresh:
    """The refresh of scoring's business gauges: pending upgrades per tier reached."""

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            upgrades = await pending_upgrades(connection, ruleset=ruleset)
        by_tier: dict[str, float] = {}
        for upgrade in upgrades:
            by_tier[upgrade.to_tier.value] = by_tier.get(upgrade.to_tier.value, 0) + upgrade.customers
        set_labelled(metrics.cooling_off_upgrades, by_tier)

    return refresh


class UpgradesDue(BaseModel):
    due_on: date
    to_tier: Tier
    customers: int


class CoolingOffUpgrades(BaseModel):
    total: int
    """Each (date, tier) pair's customers, summed."""
    upgrades: list[UpgradesDue]


@router.get("/cooling-off")
async def cooling_off_upgrades(_: Ops, transactions: Transactions, ruleset: CurrentRuleset) -> CoolingOffUpgrades:
    """Pending cooling-off upgrades by date: customers whose pending points, once their cooling-off
    ends, lift them to a higher 2015 tier; `total` counts each (date, tier) pair's customers."""
    async with transactions.engine.connect() as connection:
        upgrades = await pending_upgrades(connection, ruleset=ruleset)
    return CoolingOffUpgrades(
        total=sum(upgrade.customers for upgrade in upgrades),
        upgrades=[
            UpgradesDue(due_on=upgrade.due_on, to_tier=upgrade.to_tier, customers=upgrade.customers)
            for upgrade in upgrades
        ],
    )
