"""Operations endpoints of entitlements (role `ops`) and its business gauges on `/metrics`.

Usage and cost per channel, branch and vendor for a window of days is `GET /v1/reports/costs`; this
adds the all-time figures of value-added uses not reversed and their cost, per the customer's
serving channel at redemption, behind the `vip_redemptions` and `vip_redemption_cost` gauges.
Explicit read-only selects on entitlements' own tables.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.entitlements.domain.group_records import is_overdue
from services.entitlements.tables import group_clients, group_records, redemptions
from shared.api import PROBLEMS, Ops
from shared.group_ruleset import GroupRuleset
from shared.metrics import BusinessRefresh, ServiceMetrics, set_labelled
from shared.ruleset import Ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"])

NO_CHANNEL = "none"
"""The label of an unknown channel, branch or vendor."""


@dataclass(frozen=True, slots=True)
class ChannelUsage:
    channel: str
    redemptions: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Usage:
    channel: str
    branch: str
    vendor: str
    redemptions: int
    cost: Decimal


async def usage_by_channel(connection: AsyncConnection) -> list[ChannelUsage]:
    """Every redemption not reversed, all time, per channel (`none` when the channel was unknown)."""
    channel = func.coalesce(redemptions.c.channel, NO_CHANNEL)
    statement = (
        select(channel, func.count(), func.coalesce(func.sum(redemptions.c.unit_cost), 0))
        .where(redemptions.c.reversed_at.is_(None))
        .group_by(channel)
        .order_by(channel)
    )
    return [
        ChannelUsage(channel=name, redemptions=count, cost=Decimal(cost))
        for name, count, cost in (await connection.execute(statement)).all()
    ]


async def usage_by_channel_branch_vendor(connection: AsyncConnection) -> list[Usage]:
    """Every redemption not reversed, all time, per channel, branch and vendor (`none` when unknown)."""
    channel = func.coalesce(redemptions.c.channel, NO_CHANNEL)
    branch = func.coalesce(redemptions.c.branch, NO_CHANNEL)
    vendor = func.coalesce(redemptions.c.vendor_id, NO_CHANNEL)
    statement = (
        select(channel, branch, vendor, func.count(), func.coalesce(func.sum(redemptions.c.unit_cost), 0))
        .where(redemptions.c.reversed_at.is_(None))
        .group_by(channel, branch, vendor)
    )
    return [
        Usage(channel=c, branch=b, vendor=v, redemptions=count, cost=Decimal(cost))
        for c, b, v, count, cost in (await connection.execute(statement)).all()
    ]


def gauges(engine: AsyncEngine, ruleset: Ruleset) -> BusinessRefresh:
    """The refresh of the redemption gauges; entitlements' gauges need no threshold of `ruleset`."""

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            usage = await usage_by_channel_branch_vendor(connection)
        uses: dict[tuple[str, ...], float] = {(row.channel, row.branch, row.vendor): row.redemptions for row in usage}
        costs: dict[tuple[str, ...], float] = {(row.channel, row.branch, row.vendor): float(row.cost) for row in usage}
        set_labelled(metrics.redemptions, uses)
        set_labelled(metrics.redemption_cost, costs)

    return refresh


@router.get("/redemptions", responses=PROBLEMS)
async def redemptions_by_channel(request: Request, _: Ops) -> dict[str, Any]:
    """All-time value-added uses not reversed, and their cost, per serving channel."""
    engine: AsyncEngine = request.app.state.runtime.transactions.engine
    async with engine.connect() as connection:
        usage = await usage_by_channel(connection)
    return {
        "redemptions": sum(row.redemptions for row in usage),
        "cost": f"{sum((row.cost for row in usage), Decimal('0.00')):.2f}",
        "by_channel": [
            {"channel": row.channel, "redemptions": row.redemptions, "cost": f"{row.cost:.2f}"} for row in usage
        ],
    }


def group_gauges(engine: AsyncEngine, ruleset: Ruleset, *, group_ruleset: GroupRuleset) -> BusinessRefresh:
    """The redemption gauges, and the group program's: clients per level, overdue complaints per branch."""
    redemption_refresh = gauges(engine, ruleset)

    async def refresh(metrics: ServiceMetrics) -> None:
        await redemption_refresh(metrics)
        async with engine.connect() as connection:
            levels = (await connection.execute(
                select(group_clients.c.level, func.count()).group_by(group_clients.c.level)
            )).all()
            open_complaints = (await connection.execute(
                select(group_records.c.branch, group_records.c.received_at)
                .where(group_records.c.kind == "complaint", group_records.c.resolved_at.is_(None))
            )).all()
        now = datetime.now(UTC)
        per_level: dict[str, float] = {band.level: 0 for band in group_ruleset.levels if band.level}
        per_level.update({level or "regular": count for level, count in levels})
        overdue: dict[str, float] = defaultdict(float)
        for branch, received_at in open_complaints:
            if is_overdue(received_at=received_at, resolved_at=None, now=now, ruleset=group_ruleset):
                overdue[branch or NO_CHANNEL] += 1
        set_labelled(metrics.group_clients_by_level, per_level)
        set_labelled(metrics.group_overdue_complaints, dict(overdue))

    return refresh
