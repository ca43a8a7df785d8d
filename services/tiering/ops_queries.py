"""Read-only figures for operations from tiering's own tables: VIPs per tier, tier movements per day
and honorary applications waiting per step. Explicit selects; `ops_api` serves them and sets gauges."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.honorary import CHAIN
from services.tiering.tables import customers, honorary_applications, tier_decisions
from shared.events.values import Tier

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
    statement = (
        select(customers.c.tier, func.count()).where(customers.c.tier.is_not(None)).group_by(customers.c.tier)
    )
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
        .where(honorary_applications.c.state == "pending")
        .group_by(honorary_applications.c.next_step)
    )
    counts = {step.value: 0 for step in CHAIN}
    for step, count in (await connection.execute(statement)).all():
        counts[step] = count
    return counts
