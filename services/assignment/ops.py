"""Operations figures from assignment's own tables (role `ops`): VIPs without a representative per
serving channel (with the longest wait) and how the load is spread, as `GET /v1/ops/representation`;
the representatives' duties this year (on-time share and overdue items per representative and per
branch, VIPs meeting every minimum) as `GET /v1/ops/duties`; and the business gauges on `/metrics`
(`gauges`). Explicit selects, read-only."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.assignment.repositories.duty_figures import DutyFigures, duty_figures, items_by_state
from services.assignment.tables import agents, customers, group_clients
from shared.api import PROBLEMS, CurrentRuleset, Ops, transactions_of
from shared.db import Transactions
from shared.metrics import BusinessRefresh, ServiceMetrics, set_labelled
from shared.ruleset import Ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"], responses=PROBLEMS)

NO_CHANNEL = "none"


@dataclass(frozen=True, slots=True)
class Unassigned:
    channel: str
    customers: int
    oldest_since: date | None

    def days_waiting(self, today: date) -> int:
        return (today - self.oldest_since).days if self.oldest_since is not None else 0


@dataclass(frozen=True, slots=True)
class ChannelLoad:
    channel: str
    representatives: int
    represented: int
    max_load: int


async def unassigned_by_channel(connection: AsyncConnection) -> list[Unassigned]:
    """VIPs (tier set) with no representative, per serving channel (`none` when unknown)."""
    channel = func.coalesce(customers.c.serving_channel, NO_CHANNEL)
    statement = (
        select(channel, func.count(), func.min(customers.c.unassigned_since))
        .where(customers.c.tier.is_not(None), customers.c.representative_id.is_(None))
        .group_by(channel)
        .order_by(channel)
    )
    return [
        Unassigned(channel=name, customers=count, oldest_since=oldest)
        for name, count, oldest in (await connection.execute(statement)).all()
    ]


async def load_by_channel(connection: AsyncConnection) -> list[ChannelLoad]:
    """Per the service persons' channel: who represents anyone, how many VIPs, the heaviest load."""
    channel = func.coalesce(agents.c.channel, NO_CHANNEL)
    statement = (
        select(channel, func.count(), func.sum(agents.c.load), func.max(agents.c.load))
        .where(agents.c.load > 0)
        .group_by(channel)
    )
    return [
        ChannelLoad(channel=name, representatives=count, represented=int(total), max_load=int(heaviest))
        for name, count, total, heaviest in (await connection.execute(statement)).all()
    ]


class Loads(BaseModel):
    representatives: int
    represented: int
    max_load: int


async def load_spread(connection: AsyncConnection) -> Loads:
    """Service persons representing anyone now, the customers they represent, the heaviest load."""
    load = agents.c.load
    statement = select(func.count(), func.coalesce(func.sum(load), 0), func.coalesce(func.max(load), 0))
    row = (await connection.execute(statement.where(agents.c.load > 0))).one()
    return Loads(representatives=row[0], represented=int(row[1]), max_load=int(row[2]))


async def group_clients_without_manager(connection: AsyncConnection) -> dict[str, float]:
    """VIP group clients nobody manages, per level."""
    statement = (
        select(group_clients.c.level, func.count())
        .where(group_clients.c.level.is_not(None), group_clients.c.manager_id.is_(None))
        .group_by(group_clients.c.level)
    )
    return {level: count for level, count in (await connection.execute(statement)).all()}


def gauges(engine: AsyncEngine, ruleset: Ruleset) -> BusinessRefresh:
    """The refresh of assignment's business gauges, read when `/metrics` is scraped."""

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            groups = await unassigned_by_channel(connection)
            loads = await load_by_channel(connection)
            without_manager = await group_clients_without_manager(connection)
        set_labelled(metrics.group_clients_without_manager, without_manager)
        set_labelled(metrics.representatives_serving, {load.channel: load.representatives for load in loads})
        set_labelled(metrics.vips_represented, {load.channel: load.represented for load in loads})
        set_labelled(metrics.representative_load_max, {load.channel: load.max_load for load in loads})
        today = datetime.now(ruleset.zone).date()
        async with engine.connect() as connection:
            by_state = await items_by_state(connection)
        set_labelled(metrics.work_items_open, by_state.get("open", {}))
        set_labelled(metrics.work_items_overdue, by_state.get("overdue", {}))
        set_labelled(metrics.vips_without_representative, {group.channel: group.customers for group in groups})
        set_labelled(
            metrics.vips_without_representative_oldest_days,
            {group.channel: group.days_waiting(today) for group in groups},
        )

    return refresh


class ChannelWaiting(BaseModel):
    channel: str
    customers: int
    oldest_since: str | None
    oldest_days: int


class UnassignedFigures(BaseModel):
    total: int
    by_channel: list[ChannelWaiting]


class Representation(BaseModel):
    unassigned: UnassignedFigures
    loads: Loads


@router.get("/representation")
async def representation(
    _: Ops, ruleset: CurrentRuleset, transactions: Annotated[Transactions[Any], Depends(transactions_of)]
) -> Representation:
    """VIPs without a representative per serving channel (count, waiting since, days waited) and the
    spread of the load over the service persons representing anyone."""
    async with transactions.engine.connect() as connection:
        groups = await unassigned_by_channel(connection)
        spread = await load_spread(connection)
    today = datetime.now(ruleset.zone).date()
    return Representation(
        unassigned=UnassignedFigures(
            total=sum(group.customers for group in groups),
            by_channel=[
                ChannelWaiting(
                    channel=group.channel,
                    customers=group.customers,
                    oldest_since=group.oldest_since.isoformat() if group.oldest_since else None,
                    oldest_days=group.days_waiting(today),
                )
                for group in groups
            ],
        ),
        loads=spread,
    )


@router.get("/duties")
async def duties(
    _: Ops, ruleset: CurrentRuleset, transactions: Annotated[Transactions[Any], Depends(transactions_of)],
    year: Annotated[int | None, Query(ge=2000, le=2099)] = None,
) -> DutyFigures:
    """The representatives' duties in a calendar year (default this one), as of today: per representative
    and per branch (the representative's), items due so far, done on time, the on-time share, overdue
    items; and how many VIPs meet every duty's minimum so far."""
    today = datetime.now(ruleset.zone).date()
    async with transactions.engine.connect() as connection:
        return await duty_figures(connection, year=year or today.year, today=today, duties=ruleset.duties)
