"""VIP customers and their representative: the identity map a transaction works on.

Customer rows are locked (advisory lock and `FOR UPDATE`) before a change, so a departure and a tier
decision for the same customer, handled by two consumers at once, apply one after the other. They
are loaded in bulk (`lock`, `preload_around`), changed in memory under the lock (revisions counted
here), and written in one upsert at `flush`. `agents.load` moves with every change of
`representative_id` (`record_assignment`), in the same transaction.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.agents import AgentRepository, lock_statement, utc
from services.assignment.customer_rows import Customer, customer_of, shares_json
from services.assignment.domain import POOL_ROLES, Agent, Choice, PolicyShare
from services.assignment.tables import customers
from shared.events.values import Channel, Tier
from shared.sql import any_of

_CUSTOMER_COLUMNS = (
    "customer_id", "tier_revision", "tier", "serving_channel", "policies", "service_person_ids",
    "representative_id", "basis", "reason", "decided_at", "since", "revisable_by", "top_performers_first",
    "unassigned_since", "unassigned_reason", "revision",
)
_NEW_CUSTOMER: dict[str, Any] = {
    "representative_id": None, "basis": None, "reason": None, "decided_at": None, "since": None,
    "revisable_by": [], "top_performers_first": False, "unassigned_since": None, "unassigned_reason": None,
    "revision": 0,
}
_LOCK_CUSTOMERS = lock_statement("assignment-customer")
_SELECT_CUSTOMERS = select(customers).where(any_of(customers.c.customer_id, "ids"))
_LOCK_CUSTOMER_ROWS = _SELECT_CUSTOMERS.order_by(customers.c.customer_id).with_for_update()
_INSERT_CUSTOMERS = insert(customers)
_UPSERT_CUSTOMERS = _INSERT_CUSTOMERS.on_conflict_do_update(
    index_elements=[customers.c.customer_id],
    set_={
        **{name: _INSERT_CUSTOMERS.excluded[name] for name in _CUSTOMER_COLUMNS if name != "customer_id"},
        "updated_at": func.now(),
    },
)


class CustomerRepository:
    """Customers, with an identity map for the transaction: rows are locked and loaded in bulk
    (`lock`), changed in memory under the lock (revisions counted here), and written in one upsert
    at `flush`. Selecting customers by what they hold (`represented_by`, `revisable_by`,
    `vacancies_for`) is answered from memory for the persons `preload_around` covered; for anyone
    else the changes are written first and the database is asked, so it sees them."""

    def __init__(self, connection: AsyncConnection, *, agents: AgentRepository | None = None) -> None:
        self._connection = connection
        self._agents = agents if agents is not None else AgentRepository(connection)
        self._rows: dict[str, dict[str, Any] | None] = {}
        self._objects: dict[str, Customer] = {}
        self._locked: set[str] = set()
        self._dirty: set[str] = set()
        self._covered_agents: set[str] = set()
        self._covered_channels: set[str] = set()

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Lock (advisory, for customers not stored yet, and row) and load customers, in key order."""
        wanted = sorted(set(customer_ids) - self._locked)
        if not wanted:
            return
        await self._connection.execute(_LOCK_CUSTOMERS, {"keys": wanted})
        self._locked.update(wanted)
        self._remember(wanted, await self._connection.execute(_LOCK_CUSTOMER_ROWS, {"ids": wanted}))

    def _remember(self, wanted: Iterable[str], rows: Iterable[Any]) -> None:
        for customer_id in wanted:
            if customer_id not in self._dirty:
                self._rows[customer_id] = None
                self._objects.pop(customer_id, None)
        for row in rows:
            self._take(row)

    def _take(self, row: Any) -> None:
        if row.customer_id in self._dirty:
            return
        self._rows[row.customer_id] = {name: getattr(row, name) for name in _CUSTOMER_COLUMNS}
        self._objects.pop(row.customer_id, None)

    def _object(self, customer_id: str) -> Customer | None:
        found = self._objects.get(customer_id)
        if found is None:
            row = self._rows[customer_id]
            if row is None:
                return None
            found = self._objects[customer_id] = customer_of(row)
        return found

    def loaded(self) -> list[Customer]:
        """Every customer this transaction holds in memory."""
        return [customer for customer_id in self._rows if (customer := self._object(customer_id)) is not None]

    async def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        if for_update:
            await self.lock([customer_id])
        elif customer_id not in self._rows:
            self._remember([customer_id], await self._connection.execute(_SELECT_CUSTOMERS, {"ids": [customer_id]}))
        return self._object(customer_id)

    def _row_for_change(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self._locked:
            raise RuntimeError(f"changing customer {customer_id} without holding the customer's lock")
        row = self._rows.get(customer_id)
        if row is None:
            row = self._rows[customer_id] = {"customer_id": customer_id, **_NEW_CUSTOMER, "revisable_by": []}
        self._dirty.add(customer_id)
        self._objects.pop(customer_id, None)
        return row

    async def save_tier(
        self,
        customer_id: str,
        *,
        tier_revision: int,
        tier: Tier | None,
        serving_channel: Channel | None,
        policies: tuple[PolicyShare, ...],
    ) -> Customer:
        await self.lock([customer_id])
        row = self._row_for_change(customer_id)
        row.update(
            tier_revision=tier_revision,
            tier=tier.value if tier else None,
            serving_channel=serving_channel.value if serving_channel else None,
            policies=shares_json(policies),
            service_person_ids=sorted(
                {share.agent_id for share in policies if share.counted and share.agent_id is not None}
            ),
        )
        if tier is None:
            row.update(unassigned_since=None, unassigned_reason=None, top_performers_first=False)
        customer = self._object(customer_id)
        assert customer is not None
        return customer

    async def record_assignment(
        self,
        customer: Customer,
        *,
        choice: Choice | None,
        decided_at: datetime,
        since: date,
        unassigned_reason: str | None,
        top_performers_first: bool,
        publishing: bool,
    ) -> int:
        """Set the representative (or none) and move both persons' loads; returns the revision, raised
        by one when `publishing`."""
        before = customer.representative.agent_id if customer.representative else None
        after = choice.agent_id if choice else None
        if before != after:
            for agent_id, delta in ((before, -1), (after, 1)):
                if agent_id is not None:
                    await self._agents.add_load(agent_id, delta)
        vacant = choice is None and customer.is_vip
        row = self._row_for_change(customer.customer_id)
        row.update(
            representative_id=after,
            basis=choice.basis.value if choice else None,
            reason=choice.reason if choice else None,
            revisable_by=sorted(choice.revisable_by) if choice else [],
            decided_at=utc(decided_at) if choice else None,
            since=since if choice else None,
            top_performers_first=top_performers_first and vacant,
            unassigned_since=(customer.unassigned_since or since) if vacant else None,
            unassigned_reason=unassigned_reason if vacant else None,
            revision=row["revision"] + (1 if publishing else 0),
        )
        return int(row["revision"])

    async def bump_revision(self, customer_id: str) -> int:
        """For republishing an unchanged representative whose name or channel changed."""
        row = self._row_for_change(customer_id)
        row["revision"] += 1
        return int(row["revision"])

    async def flush(self) -> None:
        if not self._dirty:
            return
        rows = []
        for customer_id in sorted(self._dirty):
            row = self._rows[customer_id]
            assert row is not None
            rows.append(dict(row))
        self._dirty.clear()
        await self._connection.execute(_UPSERT_CUSTOMERS, rows)

    async def preload_around(self, agent_ids: Iterable[str], *, channels: Iterable[Channel]) -> None:
        """Lock and load, for HR events about `agent_ids`, every customer `represented_by`,
        `revisable_by` and `vacancies_for` them (for a pool member or top performer of one of
        `channels`) can return, in a few indexed statements. Those methods then answer from memory,
        where this transaction's changes already are."""
        ids = sorted(set(agent_ids) - self._covered_agents)
        wanted_channels = sorted({channel.value for channel in channels} - self._covered_channels)
        if not ids and not wanted_channels:
            return
        await self.flush()
        vip_vacant = (customers.c.tier.is_not(None), customers.c.representative_id.is_(None))
        conditions: list[Any] = []
        if ids:
            conditions += [
                (customers.c.representative_id.in_(ids),),
                (customers.c.revisable_by.overlap(ids),),
                (*vip_vacant, customers.c.service_person_ids.overlap(ids)),
            ]
        if wanted_channels:
            conditions.append((*vip_vacant, customers.c.serving_channel.in_(wanted_channels)))
        for condition in conditions:
            await self._locked_where(*condition)
        self._covered_agents.update(ids)
        self._covered_channels.update(wanted_channels)

    async def represented_by(self, agent_id: str) -> list[Customer]:
        if agent_id in self._covered_agents:
            return self._in_memory(lambda row: row["representative_id"] == agent_id)
        return await self._locked_where(customers.c.representative_id == agent_id)

    async def revisable_by(self, agent_id: str) -> list[Customer]:
        if agent_id in self._covered_agents:
            return self._in_memory(lambda row: agent_id in row["revisable_by"])
        return await self._locked_where(customers.c.revisable_by.contains([agent_id]))

    async def vacancies_for(self, agent: Agent) -> list[Customer]:
        """VIPs without a representative whom `agent` could take: through a policy they service, or
        through their serving channel's service pool or top performers."""
        by_channel = agent.role in POOL_ROLES or agent.top_performer
        channel = agent.channel.value
        if agent.agent_id in self._covered_agents and (not by_channel or channel in self._covered_channels):
            return self._in_memory(
                lambda row: row["tier"] is not None
                and row["representative_id"] is None
                and (agent.agent_id in row["service_person_ids"] or (by_channel and row["serving_channel"] == channel))
            )
        could_take = customers.c.service_person_ids.contains([agent.agent_id])
        if by_channel:
            could_take = could_take | (customers.c.serving_channel == agent.channel.value)
        return await self._locked_where(
            customers.c.tier.is_not(None), customers.c.representative_id.is_(None), could_take
        )

    def _in_memory(self, matches: Callable[[dict[str, Any]], bool]) -> list[Customer]:
        """The locked customers that match, by id: with `preload_around`, every customer that can."""
        found = []
        for customer_id in sorted(self._locked):
            row = self._rows.get(customer_id)
            if row is not None and matches(row):
                customer = self._object(customer_id)
                assert customer is not None
                found.append(customer)
        return found

    async def _locked_where(self, *conditions: Any) -> list[Customer]:
        """Customers matching `conditions`, locked; this transaction's changes are written first."""
        await self.flush()
        statement = select(customers).where(*conditions).order_by(customers.c.customer_id).with_for_update()
        found = []
        for row in (await self._connection.execute(statement)).all():
            self._take(row)
            self._locked.add(row.customer_id)
            customer = self._object(row.customer_id)
            assert customer is not None
            found.append(customer)
        return found

    async def unassigned(self, *, channel: Channel | None, limit: int, offset: int) -> list[Customer]:
        statement = select(customers).where(customers.c.tier.is_not(None), customers.c.representative_id.is_(None))
        if channel is not None:
            statement = statement.where(customers.c.serving_channel == channel.value)
        statement = statement.order_by(customers.c.unassigned_since, customers.c.customer_id)
        rows = await self._connection.execute(statement.limit(limit).offset(offset))
        return [customer_of(row._mapping) for row in rows.all()]

    async def of_representative(self, agent_id: str) -> list[Customer]:
        statement = select(customers).where(customers.c.representative_id == agent_id).order_by(customers.c.customer_id)
        return [customer_of(row._mapping) for row in (await self._connection.execute(statement)).all()]
