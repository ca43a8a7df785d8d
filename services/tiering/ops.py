"""Operations of tiering (role `ops`): VIPs per tier, tier movements per day and honorary applications
waiting per step, from tiering's own tables (explicit selects, read-only), served under `/v1/ops`
and refreshed as the business gauges on `/metrics` (`gauges`)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.tiering.api.dependencies import Transactions
from services.tiering.domain.honorary import CHAIN
from services.tiering.tables import customers, honorary_applications, tier_decisions
from shared.api import PROBLEMS, CurrentRuleset, Ops
from shared.bounds import Day
from shared.events.values import Tier
from shared.metrics import BusinessRefresh, ServiceMetrics, set_labelled
from shared.refusals import Invalid
from shared.ruleset import Ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"])

MOVEMENTS = ("entered", "up", "down", "left")


@dataclass(frozen=True, slots=True)
class DailyMovements:
    day: date
    entered: int
    up: int
    down: int
    left: int


def movement(previous: str | None, tier: str | None) -> str | None:
    """What a decision did to the effective tier: entered VIP, moved up or down, left VIP, or None."""
    if previous == tier:
        return None
    if previous is None:
        return "entered"
    if tier is None:
        return "left"
    return "up" if Tier(tier).rank > Tier(previous).rank else "down"


async def tier_distribution(connection: AsyncConnection) -> dict[str, int]:
    """VIP customers per effective tier now; every tier present, zero when nobody holds it."""
    statement = select(customers.c.tier, func.count()).where(customers.c.tier.is_not(None)).group_by(customers.c.tier)
    counts = {tier.value: 0 for tier in Tier}
    for tier, count in (await connection.execute(statement)).all():
        counts[tier] = count
    return counts


async def daily_movements(connection: AsyncConnection, *, first_day: date, last_day: date) -> list[DailyMovements]:
    """Per effective date in [first_day, last_day]: decisions that changed the effective tier."""
    statement = (
        select(tier_decisions.c.effective_at, tier_decisions.c.previous_tier, tier_decisions.c.tier, func.count())
        .where(
            tier_decisions.c.effective_at.between(first_day, last_day),
            tier_decisions.c.tier.is_distinct_from(tier_decisions.c.previous_tier),
        )
        .group_by(tier_decisions.c.effective_at, tier_decisions.c.previous_tier, tier_decisions.c.tier)
    )
    per_day: dict[date, dict[str, int]] = {}
    for day, previous, tier, count in (await connection.execute(statement)).all():
        kind = movement(previous, tier)
        if kind is not None:
            counts = per_day.setdefault(day, dict.fromkeys(MOVEMENTS, 0))
            counts[kind] += count
    return [DailyMovements(day=day, **counts) for day, counts in sorted(per_day.items())]


async def honorary_waiting(connection: AsyncConnection) -> dict[str, int]:
    """Open honorary applications per step waiting for a decision, every step of the chain in order."""
    statement = (
        select(honorary_applications.c.next_step, func.count())
        .where(honorary_applications.c.program == "individual", honorary_applications.c.state == "pending")
        .group_by(honorary_applications.c.next_step)
    )
    counts = {str(step): 0 for step in CHAIN}
    for step, count in (await connection.execute(statement)).all():
        counts[step] = count
    return counts


def gauges(engine: AsyncEngine, ruleset: Ruleset) -> BusinessRefresh:
    """The refresh of tiering's business gauges: VIPs per tier, honorary applications waiting per step.

    Takes the ruleset for the shape every service shares; these figures need none of it.
    """

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            tiers = await tier_distribution(connection)
            waiting = await honorary_waiting(connection)
        set_labelled(metrics.vips_by_tier, {tier: float(count) for tier, count in tiers.items()})
        set_labelled(metrics.honorary_waiting, {step: float(count) for step, count in waiting.items()})

    return refresh


class DayMovements(BaseModel):
    day: date
    entered: int
    up: int
    down: int
    left: int


class TierMovements(BaseModel):
    """`from` and `to` are Python keywords: the fields carry them as aliases."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "distribution": {"gold": 12, "platinum": 3}, "total": 15, "from": "2026-09-04", "to": "2026-12-02",
        "movements": [{"day": "2026-12-01", "entered": 2, "up": 1, "down": 0, "left": 1}],
    }]})

    distribution: dict[str, int] = Field(description="VIPs per effective tier now")
    total: int
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    movements: list[DayMovements]


@router.get("/tiers", responses=PROBLEMS)
async def tiers_and_movements(
    _: Ops,
    transactions: Transactions,
    ruleset: CurrentRuleset,
    first_day: Annotated[Day | None, Query(alias="from", description="first day, included")] = None,
    last_day: Annotated[Day | None, Query(alias="to", description="last day, included; default today")] = None,
) -> TierMovements:
    """VIPs per effective tier now, and per effective date the decisions that moved a tier: `entered`
    VIP, `up`, `down`, `left` VIP (a decision that kept the tier is not a movement). Default window:
    the 90 days up to today in the ruleset's time zone."""
    last = last_day or datetime.now(ruleset.zone).date()
    first = first_day or last - timedelta(days=89)
    if last < first:
        raise Invalid("'to' is before 'from'", reason="empty_window")
    async with transactions.engine.connect() as connection:
        distribution = await tier_distribution(connection)
        movements = await daily_movements(connection, first_day=first, last_day=last)
    return TierMovements.model_validate({
        "distribution": distribution,
        "total": sum(distribution.values()),
        "from": first,
        "to": last,
        "movements": [
            DayMovements(day=day.day, entered=day.entered, up=day.up, down=day.down, left=day.left)
            for day in movements
        ],
    })


class HonoraryWaiting(BaseModel):
    total: int
    waiting: dict[str, int] = Field(description="open applications per step waiting, in the chain's order")


@router.get("/honorary-waiting", responses=PROBLEMS)
async def honorary_applications_waiting(_: Ops, transactions: Transactions) -> HonoraryWaiting:
    """Open honorary applications per step of the chain, in the chain's order."""
    async with transactions.engine.connect() as connection:
        waiting = await honorary_waiting(connection)
    return HonoraryWaiting(total=sum(waiting.values()), waiting=waiting)
