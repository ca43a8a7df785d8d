"""Service persons and their contacts with customers: the facts the rules choose from.

`agents.load` counts the VIP customers a person represents now. It changes only in
`CustomerRepository.record_assignment`, in the same transaction as the assignment, so the
least-loaded choice reads one indexed row per candidate instead of counting customers.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain import POOL_ROLES, Agent
from services.assignment.tables import ASSIGNABLE, agents, contacts
from shared.events.inbound import AgentProfile
from shared.events.values import AgentRole, Channel


@dataclass(frozen=True, slots=True)
class StoredAgent:
    agent_id: str
    agent: Agent | None
    """None until the person's first profile arrives."""
    profile_at: datetime | None
    departed_on: date | None
    disqualification_reason: str | None
    load: int


def _agent(row: Row[Any]) -> StoredAgent:
    profile = None
    if row.profile_at is not None:
        profile = Agent(
            agent_id=row.agent_id,
            name=row.name,
            channel=Channel(row.channel),
            branch=row.branch,
            role=AgentRole(row.role),
            top_performer=row.top_performer,
            eligible=row.eligible,
            departed=row.departed_at is not None,
            disqualified=row.disqualified_at is not None,
        )
    return StoredAgent(
        agent_id=row.agent_id,
        agent=profile,
        profile_at=row.profile_at,
        departed_on=row.departed_on,
        disqualification_reason=row.disqualification_reason,
        load=row.load,
    )


class AgentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, agent_id: str, *, for_update: bool = False) -> StoredAgent | None:
        statement = select(agents).where(agents.c.agent_id == agent_id)
        row = (await self._connection.execute(statement.with_for_update() if for_update else statement)).first()
        return _agent(row) if row else None

    async def save_profile(self, profile: AgentProfile, *, at: datetime) -> None:
        """Departure and disqualification are kept: a profile never brings a person back."""
        values = {
            "name": profile.name,
            "channel": profile.channel.value,
            "branch": profile.branch,
            "role": profile.role.value,
            "top_performer": profile.top_performer,
            "eligible": profile.eligible,
            "profile_at": at,
        }
        statement = insert(agents).values(agent_id=profile.agent_id, **values)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[agents.c.agent_id], set_={**values, "updated_at": func.now()}
            )
        )

    async def mark_departed(self, agent_id: str, *, departed_on: date, at: datetime) -> bool:
        """True the first time; a person may be known only by this event (no profile yet)."""
        return await self._mark(agent_id, "departed_at", {"departed_on": departed_on, "departed_at": at})

    async def mark_disqualified(self, agent_id: str, *, reason: str, at: datetime) -> bool:
        return await self._mark(agent_id, "disqualified_at", {"disqualification_reason": reason, "disqualified_at": at})

    async def _mark(self, agent_id: str, column: str, values: dict[str, Any]) -> bool:
        statement = insert(agents).values(agent_id=agent_id, **values)
        marked = await self._connection.scalar(
            statement.on_conflict_do_update(
                index_elements=[agents.c.agent_id],
                set_={**values, "updated_at": func.now()},
                where=agents.c[column].is_(None),
            ).returning(agents.c.agent_id)
        )
        return marked is not None

    async def add_load(self, agent_id: str, delta: int) -> None:
        await self._connection.execute(
            update(agents).where(agents.c.agent_id == agent_id).values(load=agents.c.load + delta)
        )

    async def candidates(
        self, *, named: Collection[str], pools: Mapping[Channel, int], top_performers: Mapping[Channel, int]
    ) -> tuple[dict[str, Agent], dict[str, int]]:
        """The persons a choice can look at, and their loads: everyone `named` (service persons on the
        policies, whatever their state), and per channel the `n` least loaded assignable pool members
        and top performers. Filling `n - 1` vacancies one by one never needs anyone beyond the first
        `n` by (load, agent id), so the pool is not read whole.
        """
        rows: list[Row[Any]] = []
        if named:
            rows += (await self._connection.execute(select(agents).where(agents.c.agent_id.in_(named)))).all()
        for channel, count in pools.items():
            rows += await self._least_loaded(channel, count, agents.c.role.in_([role.value for role in POOL_ROLES]))
        for channel, count in top_performers.items():
            rows += await self._least_loaded(channel, count, agents.c.top_performer)
        stored = [_agent(row) for row in rows]
        found = {each.agent_id: each.agent for each in stored if each.agent is not None}
        return found, {each.agent_id: each.load for each in stored}

    async def _least_loaded(self, channel: Channel, count: int, condition: Any) -> list[Row[Any]]:
        statement = (
            select(agents)
            .where(ASSIGNABLE, agents.c.channel == channel.value, condition)
            .order_by(agents.c.load, agents.c.agent_id)
            .limit(count)
        )
        return list((await self._connection.execute(statement)).all())

    async def by_load(self, *, channel: Channel | None, limit: int, offset: int) -> list[StoredAgent]:
        statement = select(agents).where(agents.c.profile_at.is_not(None))
        if channel is not None:
            statement = statement.where(agents.c.channel == channel.value)
        statement = statement.order_by(agents.c.load.desc(), agents.c.agent_id).limit(limit).offset(offset)
        return [_agent(row) for row in (await self._connection.execute(statement)).all()]


class ContactRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, *, customer_id: str, agent_id: str, contacted_at: datetime) -> None:
        await self._connection.execute(
            insert(contacts)
            .values(customer_id=customer_id, agent_id=agent_id, contacted_at=contacted_at)
            .on_conflict_do_nothing()
        )

    async def latest(self, customer_id: str, *, until: datetime) -> dict[str, datetime]:
        """Each person's most recent contact with the customer at or before `until`."""
        rows = await self._connection.execute(
            select(contacts.c.agent_id, func.max(contacts.c.contacted_at).label("latest"))
            .where(contacts.c.customer_id == customer_id, contacts.c.contacted_at <= until)
            .group_by(contacts.c.agent_id)
        )
        return {row.agent_id: row.latest for row in rows}
