"""Read-only figures for operations from entitlements' own tables: value-added uses not reversed and
their cost, per the customer's serving channel at redemption. Explicit selects."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.tables import redemptions

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
