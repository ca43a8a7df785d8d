"""Read-only figures for operations from assignment's own tables: VIPs without a representative per
serving channel (with the longest wait), and how the load is spread. Explicit selects."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.tables import agents, customers

NO_CHANNEL = "none"


@dataclass(frozen=True, slots=True)
class Unassigned:
    channel: str
    customers: int
    oldest_since: date | None


@dataclass(frozen=True, slots=True)
class LoadSpread:
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


@dataclass(frozen=True, slots=True)
class ChannelLoad:
    channel: str
    representatives: int
    represented: int
    max_load: int


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


async def load_spread(connection: AsyncConnection) -> LoadSpread:
    """Service persons representing anyone now, the customers they represent, the heaviest load."""
    load = agents.c.load
    statement = select(func.count(), func.coalesce(func.sum(load), 0), func.coalesce(func.max(load), 0))
    row = (await connection.execute(statement.where(agents.c.load > 0))).one()
    return LoadSpread(representatives=row[0], represented=int(row[1]), max_load=int(row[2]))
