"""Service persons: the facts the rules choose from (their contacts are in `contacts`).

`agents.load` counts the VIP customers a person represents now. It changes only in
`CustomerRepository.record_assignment`, in the same transaction as the assignment, so the
least-loaded choice reads one indexed row per candidate instead of counting customers.

The repository keeps an identity map for the transaction: what is loaded once (in bulk by
`AssignmentUnitOfWork.prepare`, or on demand) is served from memory, and writes are buffered and
written by `flush()` in a few statements. Load changes are written as increments (`load + delta`),
never as absolute values, so a transaction that does not hold a person's lock can still move their
load safely.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain import POOL_ROLES, Agent
from services.assignment.pools import READ_AHEAD, Kind, PoolSlices
from services.assignment.tables import ASSIGNABLE, agents
from shared.events.inbound import AgentProfile
from shared.events.values import AgentRole, Channel
from shared.sql import any_of


@dataclass(frozen=True, slots=True)
class StoredAgent:
    agent_id: str
    agent: Agent | None
    """None until the person's first profile arrives."""
    profile_at: datetime | None
    departed_on: date | None
    disqualification_reason: str | None
    load: int


_COLUMNS = (
    "agent_id", "name", "channel", "branch", "role", "top_performer", "eligible", "profile_at",
    "departed_on", "departed_at", "disqualified_at", "disqualification_reason",
)
"""Every column a transaction writes as a value (under the person's lock); `load` is written as an increment."""


def _agent(row: Mapping[Any, Any]) -> StoredAgent:
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
        disqualification_reason=row["disqualification_reason"],
        load=row["load"],
    )


def _pools_of(agent: Agent | None) -> set[tuple[str, Kind]]:
    """The pools an assignable person is in."""
    pools: set[tuple[str, Kind]] = set()
    if agent is None or not agent.assignable:
        return pools
    if agent.role in POOL_ROLES:
        pools.add((agent.channel.value, Kind.POOL))
    if agent.top_performer:
        pools.add((agent.channel.value, Kind.TOP_PERFORMERS))
    return pools


def utc(moment: datetime) -> datetime:
    """As PostgreSQL gives a `timestamptz` back: what is served from memory reads like what is stored."""
    return moment.astimezone(UTC)


def lock_statement(namespace: str) -> Any:
    """Transaction-scoped advisory locks on many keys in one statement, taken in key order so two
    transactions locking overlapping sets cannot deadlock on them. They also cover rows that do not
    exist yet (a `FOR UPDATE` locks nothing there)."""
    return text(
        "SELECT count(pg_advisory_xact_lock(h)) FROM "
        f"(SELECT hashtextextended('{namespace}:' || k, 0) AS h "
        "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"
    )


_LOCK_AGENTS = lock_statement("assignment-agent")
_SELECT_AGENTS = select(agents).where(any_of(agents.c.agent_id, "ids"))
_LOCK_AGENT_ROWS = _SELECT_AGENTS.order_by(agents.c.agent_id).with_for_update()
_POOL_MEMBER = agents.c.role.in_([role.value for role in POOL_ROLES])
_INSERT_AGENTS = insert(agents)
_UPSERT_AGENTS = _INSERT_AGENTS.on_conflict_do_update(
    index_elements=[agents.c.agent_id],
    set_={
        **{name: _INSERT_AGENTS.excluded[name] for name in _COLUMNS if name != "agent_id"},
        "updated_at": func.now(),
    },
)
_ADD_LOADS = text(
    "UPDATE agents SET load = agents.load + d.delta FROM "
    "unnest(CAST(:ids AS text[]), CAST(:deltas AS integer[])) AS d(agent_id, delta) "
    "WHERE agents.agent_id = d.agent_id"
)


class AgentRepository:
    """Service persons, with an identity map for the transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._rows: dict[str, dict[str, Any] | None] = {}
        self._locked: set[str] = set()
        self._dirty: set[str] = set()
        self._load_deltas: dict[str, int] = {}
        self._pools = PoolSlices()

    async def lock(self, agent_ids: Iterable[str]) -> None:
        """Lock (advisory and row) and load the persons a batch will change, in a few statements."""
        wanted = sorted(set(agent_ids) - self._locked)
        if not wanted:
            return
        await self._connection.execute(_LOCK_AGENTS, {"keys": wanted})
        self._locked.update(wanted)
        self._remember(wanted, await self._connection.execute(_LOCK_AGENT_ROWS, {"ids": wanted}))

    async def preload(self, agent_ids: Iterable[str]) -> None:
        """Load persons the batch will read (without locking them)."""
        wanted = sorted(set(agent_ids) - set(self._rows))
        if wanted:
            self._remember(wanted, await self._connection.execute(_SELECT_AGENTS, {"ids": wanted}))

    def _remember(self, wanted: Iterable[str], rows: Iterable[Any]) -> None:
        for agent_id in wanted:
            if agent_id not in self._dirty:
                self._rows[agent_id] = None
        for row in rows:
            self._take(row)

    def _take(self, row: Any) -> None:
        """A row read from the database; what this transaction changed and has not written wins."""
        if row.agent_id in self._dirty:
            return
        values = dict(row._mapping)
        values["load"] += self._load_deltas.get(row.agent_id, 0)
        self._rows[row.agent_id] = values

    async def get(self, agent_id: str, *, for_update: bool = False) -> StoredAgent | None:
        if for_update:
            await self.lock([agent_id])
        elif agent_id not in self._rows:
            await self.preload([agent_id])
        row = self._rows[agent_id]
        return _agent(row) if row else None

    def _row_for_change(self, agent_id: str) -> dict[str, Any]:
        if agent_id not in self._locked:
            raise RuntimeError(f"changing service person {agent_id} without holding their lock")
        row = self._rows.get(agent_id)
        if row is None:
            row = dict.fromkeys(_COLUMNS)
            row.update(agent_id=agent_id, top_performer=False, eligible=False, load=0)
            self._rows[agent_id] = row
        self._dirty.add(agent_id)
        return row

    async def save_profile(self, profile: AgentProfile, *, at: datetime) -> None:
        """Departure and disqualification are kept: a profile never brings a person back."""
        await self.lock([profile.agent_id])
        self._change(
            profile.agent_id,
            {
                "name": profile.name,
                "channel": profile.channel.value,
                "branch": profile.branch,
                "role": profile.role.value,
                "top_performer": profile.top_performer,
                "eligible": profile.eligible,
                "profile_at": utc(at),
            },
        )

    async def mark_departed(self, agent_id: str, *, departed_on: date, at: datetime) -> bool:
        """True the first time; a person may be known only by this event (no profile yet)."""
        return await self._mark(agent_id, "departed_at", {"departed_on": departed_on, "departed_at": utc(at)})

    async def mark_disqualified(self, agent_id: str, *, reason: str, at: datetime) -> bool:
        return await self._mark(
            agent_id, "disqualified_at", {"disqualification_reason": reason, "disqualified_at": utc(at)}
        )

    async def _mark(self, agent_id: str, column: str, values: dict[str, Any]) -> bool:
        await self.lock([agent_id])
        current = self._rows.get(agent_id)
        if current is not None and current[column] is not None:
            return False
        self._change(agent_id, values)
        return True

    def _change(self, agent_id: str, values: dict[str, Any]) -> None:
        """A profile, departure or disqualification: the pools the person was or is in are read again."""
        before = self._rows.get(agent_id)
        pools = _pools_of(_agent(before).agent) if before is not None else set()
        row = self._row_for_change(agent_id)
        row.update(values)
        self._pools.forget(pools | _pools_of(_agent(row).agent))

    async def add_load(self, agent_id: str, delta: int) -> None:
        self._load_deltas[agent_id] = self._load_deltas.get(agent_id, 0) + delta
        row = self._rows.get(agent_id)
        if row is not None:
            row["load"] += delta
        if delta < 0:
            self._pools.load_dropped(agent_id, _pools_of(_agent(row).agent) if row is not None else None)

    async def flush(self) -> None:
        """Profiles and marks in one upsert, then every load change in one statement."""
        if self._dirty:
            rows = []
            for agent_id in sorted(self._dirty):
                row = self._rows[agent_id]
                assert row is not None
                rows.append({name: row[name] for name in _COLUMNS})
            await self._connection.execute(_UPSERT_AGENTS, rows)
            self._dirty.clear()
        deltas = {agent_id: delta for agent_id, delta in self._load_deltas.items() if delta}
        self._load_deltas.clear()
        if deltas:
            ids = sorted(deltas)
            await self._connection.execute(_ADD_LOADS, {"ids": ids, "deltas": [deltas[each] for each in ids]})

    async def candidates(
        self, *, named: Collection[str], pools: Mapping[Channel, int], top_performers: Mapping[Channel, int]
    ) -> tuple[dict[str, Agent], dict[str, int]]:
        """The persons a choice can look at, and their loads: everyone `named` (service persons on the
        policies, whatever their state), and per channel (at least) the `n` least loaded assignable
        pool members and top performers. Filling `n - 1` vacancies one by one never needs anyone
        beyond the first `n` by (load, agent id), so the pool is not read whole; what is read is kept
        for the transaction (`services.assignment.pools`).
        """
        await self.preload(named)
        chosen = {agent_id for agent_id in named if self._rows.get(agent_id) is not None}
        for kind, wanted in ((Kind.POOL, pools), (Kind.TOP_PERFORMERS, top_performers)):
            for channel, count in wanted.items():
                members = self._pools.members(channel.value, kind, count, self._load_of)
                if members is None:
                    members = await self._least_loaded(channel, kind, count + READ_AHEAD)
                chosen |= members
        stored = [_agent(row) for agent_id in sorted(chosen) if (row := self._rows[agent_id]) is not None]
        found = {each.agent_id: each.agent for each in stored if each.agent is not None}
        return found, {each.agent_id: each.load for each in stored}

    async def preload_pools(self, vacancies: Mapping[Channel, int]) -> None:
        """Read each channel's least loaded pool members once for a batch that may fill `vacancies`."""
        for channel, count in sorted(vacancies.items()):
            if self._pools.members(channel.value, Kind.POOL, count + 1, self._load_of) is None:
                await self._least_loaded(channel, Kind.POOL, count + 1 + READ_AHEAD)

    def _load_of(self, agent_id: str) -> int:
        row = self._rows[agent_id]
        assert row is not None
        return int(row["load"])

    async def _least_loaded(self, channel: Channel, kind: Kind, limit: int) -> set[str]:
        """Read with this transaction's changes written first, so the database orders by them."""
        await self.flush()
        condition = _POOL_MEMBER if kind is Kind.POOL else agents.c.top_performer
        statement = (
            select(agents)
            .where(ASSIGNABLE, agents.c.channel == channel.value, condition)
            .order_by(agents.c.load, agents.c.agent_id)
            .limit(limit)
        )
        rows = (await self._connection.execute(statement)).all()
        for row in rows:
            self._take(row)
        return self._pools.remember(channel.value, kind, [(row.agent_id, row.load) for row in rows], limit=limit)

    async def by_load(self, *, channel: Channel | None, limit: int, offset: int) -> list[StoredAgent]:
        statement = select(agents).where(agents.c.profile_at.is_not(None))
        if channel is not None:
            statement = statement.where(agents.c.channel == channel.value)
        statement = statement.order_by(agents.c.load.desc(), agents.c.agent_id).limit(limit).offset(offset)
        return [_agent(row._mapping) for row in (await self._connection.execute(statement)).all()]
