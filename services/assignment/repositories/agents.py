"""Service persons: the facts the rules choose from (their contacts are in `contacts`).

`agents.load` counts the VIP customers a person represents now. It moves with every change of a
customer's representative (`add_load`), in the same transaction, so the least-loaded choice reads
one indexed row per candidate instead of counting customers. A load is written as an increment
(`load + delta`), never as a value: a transaction assigning a customer to a person does not hold
that person's lock, and needs none to move the load. So the identity map stores everything but
`load`; the increments this transaction made are kept beside it (`_moved`, since the map read the
person; `_unwritten`, not written yet) and added to what the map holds.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.assignment import POOL_ROLES, Agent
from services.assignment.domain.records import StoredAgent
from services.assignment.repositories.pools import READ_AHEAD, Kind, Pool, PoolSlices, pool_name
from services.assignment.tables import ASSIGNABLE, PENDING_DEPARTURE, agents
from shared.events.values import AgentRole, Channel
from shared.identity_map import IdentityMap


def utc(moment: datetime) -> datetime:
    """As PostgreSQL gives a `timestamptz` back: what is served from memory reads like what is stored."""
    return moment.astimezone(UTC)


def stored_agent_of(row: Mapping[Any, Any]) -> StoredAgent:
    profile = None
    if row["profile_at"] is not None:
        profile = Agent(
            agent_id=row["agent_id"],
            name=row["name"],
            channel=Channel(row["channel"]),
            branch=row["branch"],
            role=AgentRole(row["role"]),
            top_performer=row["top_performer"],
            eligible=row["eligible"],
            departed=row["departed_at"] is not None,
            disqualified=row["disqualified_at"] is not None,
        )
    return StoredAgent(
        agent_id=row["agent_id"],
        agent=profile,
        profile_at=row["profile_at"],
        departed_on=row["departed_on"],
        departed_at=row["departed_at"],
        disqualified_at=row["disqualified_at"],
        disqualification_reason=row["disqualification_reason"],
        load=row["load"],
        departs_on=row["departs_on"],
    )


def row_of_agent(stored: StoredAgent) -> dict[str, Any]:
    """Every column but `load` (written as an increment) and `updated_at`."""
    agent = stored.agent
    return {
        "agent_id": stored.agent_id,
        "name": agent.name if agent else None,
        "channel": agent.channel.value if agent else None,
        "branch": agent.branch if agent else None,
        "role": agent.role.value if agent else None,
        "top_performer": agent.top_performer if agent else False,
        "eligible": agent.eligible if agent else False,
        "profile_at": stored.profile_at,
        "departed_on": stored.departed_on,
        "departed_at": stored.departed_at,
        "departs_on": stored.departs_on,
        "disqualified_at": stored.disqualified_at,
        "disqualification_reason": stored.disqualification_reason,
    }


def _pools_of(agent: Agent | None) -> set[tuple[str, Kind]]:
    """The pools an assignable person is in: their channel's, and their channel's in their branch."""
    pools: set[tuple[str, Kind]] = set()
    if agent is None or not agent.assignable:
        return pools
    names = (pool_name(agent.channel, None), pool_name(agent.channel, agent.branch))
    if agent.role in POOL_ROLES:
        pools.update((name, Kind.POOL) for name in names)
    if agent.top_performer:
        pools.update((name, Kind.TOP_PERFORMERS) for name in names)
    return pools


def _scopes(vacancies: Mapping[Pool, int]) -> list[tuple[Pool, int]]:
    """The slices `vacancies` may draw on: each branch's people, and the whole channel's (for a
    branch with nobody), with as many vacancies as may fall to each, in a stable order."""
    wanted: dict[Pool, int] = {}
    for (channel, branch), count in vacancies.items():
        for scope in {None, branch}:
            wanted[(channel, scope)] = wanted.get((channel, scope), 0) + count
    return sorted(wanted.items(), key=lambda item: (item[0][0].value, item[0][1] or ""))


_POOL_MEMBER = agents.c.role.in_([role.value for role in POOL_ROLES])
_ADD_LOADS = text(
    "UPDATE agents SET load = agents.load + d.delta FROM "
    "unnest(CAST(:ids AS text[]), CAST(:deltas AS integer[])) AS d(agent_id, delta) "
    "WHERE agents.agent_id = d.agent_id"
)


class AgentRepository:
    """Service persons on an identity map for the transaction (advisory locks, scope "assignment-agent")."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[StoredAgent](
            connection, table=agents, key="agent_id", lock_scope="assignment-agent",
            value_of=self._value_of, row_of=row_of_agent,
        )
        self._moved: dict[str, int] = {}
        """Load increments since the map read each stored person (present: the person is in the map)."""
        self._unwritten: dict[str, int] = {}
        self._pools = PoolSlices()

    def _value_of(self, row: Mapping[str, Any]) -> StoredAgent:
        """Called by the map for each row it reads: the row holds every increment written so far."""
        self._moved[row["agent_id"]] = self._unwritten.get(row["agent_id"], 0)
        return stored_agent_of(row)

    async def lock(self, agent_ids: Iterable[str]) -> None:
        """Lock and load the persons a batch will change, in two statements."""
        await self._map.lock(agent_ids)

    async def load(self, agent_ids: Iterable[str]) -> None:
        """Load persons the batch will read, without locking them."""
        await self._map.load(agent_ids)

    async def get(self, agent_id: str) -> StoredAgent | None:
        stored = await self._map.get(agent_id)
        return self._current(stored)

    def _current(self, stored: StoredAgent | None) -> StoredAgent | None:
        if stored is None or not self._moved.get(stored.agent_id):
            return stored
        return replace(stored, load=stored.load + self._moved[stored.agent_id])

    def save_agent(self, stored: StoredAgent) -> None:
        """A profile, departure or disqualification (under the person's lock): the pools the person
        was or is in are read again."""
        before = self._current(self._map.loaded(stored.agent_id))
        saved = replace(
            stored,
            profile_at=stored.profile_at and utc(stored.profile_at),
            departed_at=stored.departed_at and utc(stored.departed_at),
            disqualified_at=stored.disqualified_at and utc(stored.disqualified_at),
            load=before.load if before else 0,
        )
        self._map.save(stored.agent_id, saved)
        self._moved[stored.agent_id] = 0
        self._pools.forget(_pools_of(before.agent if before else None) | _pools_of(saved.agent))

    def add_load(self, agent_id: str, delta: int) -> None:
        self._unwritten[agent_id] = self._unwritten.get(agent_id, 0) + delta
        known = agent_id in self._moved
        if known:
            self._moved[agent_id] += delta
        if delta < 0:
            stored = self._map.loaded(agent_id) if known else None
            self._pools.load_dropped(agent_id, _pools_of(stored.agent) if stored is not None else None)

    async def flush(self) -> None:
        """Profiles and marks in one upsert, then every load change in one statement."""
        await self._map.flush()
        deltas = {agent_id: delta for agent_id, delta in self._unwritten.items() if delta}
        self._unwritten.clear()
        if deltas:
            ids = sorted(deltas)
            await self._connection.execute(_ADD_LOADS, {"ids": ids, "deltas": [deltas[each] for each in ids]})

    async def candidates(
        self, *, named: Collection[str], pools: Mapping[Pool, int], top_performers: Mapping[Pool, int]
    ) -> tuple[dict[str, Agent], dict[str, int]]:
        """The persons a choice can look at, and their loads: everyone `named` (service persons on the
        policies, whatever their state), and per (channel, branch) (at least) the `n` least loaded
        assignable pool members and top performers of the branch and of the whole channel. Filling
        `n - 1` vacancies one by one never needs anyone beyond the first `n` by (load, agent id) of
        either (the branch's people first, the channel's when the branch has nobody), so a pool is
        not read whole; what is read is kept for the transaction (`repositories.pools`).
        """
        await self._map.load(named)
        chosen = {agent_id for agent_id in named if self._map.loaded(agent_id) is not None}
        for kind, wanted in ((Kind.POOL, pools), (Kind.TOP_PERFORMERS, top_performers)):
            for (channel, scope), count in _scopes(wanted):
                members = self._pools.members(pool_name(channel, scope), kind, count, self._load_of)
                if members is None:
                    members = await self._least_loaded(channel, kind, count + READ_AHEAD, branch=scope)
                chosen |= members
        stored = [each for agent_id in sorted(chosen) if (each := self._current(self._map.loaded(agent_id)))]
        found = {each.agent_id: each.agent for each in stored if each.agent is not None}
        return found, {each.agent_id: each.load for each in stored}

    async def load_pools(self, vacancies: Mapping[Pool, int]) -> None:
        """Read each pool's least loaded members (the branch's and the channel's) once for a batch
        that may fill `vacancies`."""
        for (channel, scope), count in _scopes(vacancies):
            if self._pools.members(pool_name(channel, scope), Kind.POOL, count + 1, self._load_of) is None:
                await self._least_loaded(channel, Kind.POOL, count + 1 + READ_AHEAD, branch=scope)

    def _load_of(self, agent_id: str) -> int:
        stored = self._current(self._map.loaded(agent_id))
        assert stored is not None
        return stored.load

    async def _least_loaded(self, channel: Channel, kind: Kind, limit: int, *, branch: str | None) -> set[str]:
        """Read with this transaction's changes written first, so the database orders by them; a
        `branch` narrows the pool to its people (None: the whole channel)."""
        await self.flush()
        condition = _POOL_MEMBER if kind is Kind.POOL else agents.c.top_performer
        statement = select(agents.c.agent_id, agents.c.load).where(
            ASSIGNABLE, agents.c.channel == channel.value, condition
        )
        if branch is not None:
            statement = statement.where(agents.c.branch == branch)
        statement = statement.order_by(agents.c.load, agents.c.agent_id).limit(limit)
        rows = [(agent_id, load) for agent_id, load in (await self._connection.execute(statement)).all()]
        await self._map.load(agent_id for agent_id, _ in rows)
        return self._pools.remember(pool_name(channel, branch), kind, rows, limit=limit)

    async def departing(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Persons whose departure announced ahead falls due by `as_of`, in agent-id order after
        `after` (the daily run's cursor). Only pending departures are in the partial index
        `ix_agents_pending_departure`, so the date filter and the sort look at those rows alone."""
        statement = (
            select(agents.c.agent_id)
            .where(PENDING_DEPARTURE, agents.c.departs_on <= as_of, agents.c.agent_id > after)
            .order_by(agents.c.agent_id)
            .limit(limit)
        )
        return [agent_id for (agent_id,) in (await self._connection.execute(statement)).all()]

    async def by_load(self, *, channel: Channel | None, limit: int, offset: int) -> list[StoredAgent]:
        statement = select(agents).where(agents.c.profile_at.is_not(None))
        if channel is not None:
            statement = statement.where(agents.c.channel == channel.value)
        statement = statement.order_by(agents.c.load.desc(), agents.c.agent_id).limit(limit).offset(offset)
        return [stored_agent_of(row._mapping) for row in (await self._connection.execute(statement)).all()]
