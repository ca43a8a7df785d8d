"""VIP customers and their representative, on an identity map for the transaction.

A customer is locked (advisory lock, scope "assignment-customer", in key order; a customer never
seen is locked like a stored one) before it is read for a change, so a departure and a tier decision
for the same customer, handled by two consumers at once, apply one after the other. Selecting
customers by what they hold (`represented_by`, `revisable_by`, `vacancies_for`) answers from memory
for the persons `load_around` covered (every customer that can match is then locked and loaded, and
this transaction's changes are in memory); for anyone else the changes are written first, the
database names the customers, and they are locked and read again before they are looked at.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.assignment import POOL_ROLES, Agent, Basis, Choice, PolicyShare
from services.assignment.domain.records import Customer
from services.assignment.repositories.agents import utc
from services.assignment.tables import customers
from shared.events.values import Channel, Tier
from shared.identity_map import IdentityMap


def customer_of(row: Mapping[Any, Any]) -> Customer:
    representative = None
    if row["representative_id"] is not None:
        representative = Choice(
            agent_id=row["representative_id"],
            basis=Basis(row["basis"]),
            reason=row["reason"],
            revisable_by=frozenset(row["revisable_by"]),
        )
    return Customer(
        customer_id=row["customer_id"],
        tier_revision=row["tier_revision"],
        tier=Tier(row["tier"]) if row["tier"] else None,
        serving_channel=Channel(row["serving_channel"]) if row["serving_channel"] else None,
        branch=row["branch"],
        policies=tuple(
            PolicyShare(
                policy_no=item["policy_no"],
                agent_id=item["agent_id"],
                contribution=Decimal(item["contribution"]),
                counted=item["counted"],
            )
            for item in row["policies"]
        ),
        representative=representative,
        decided_at=row["decided_at"],
        since=row["since"],
        top_performers_first=row["top_performers_first"],
        unassigned_since=row["unassigned_since"],
        unassigned_reason=row["unassigned_reason"],
        revision=row["revision"],
    )


def row_of_customer(customer: Customer) -> dict[str, Any]:
    """Every column but `updated_at`."""
    choice = customer.representative
    return {
        "customer_id": customer.customer_id,
        "tier_revision": customer.tier_revision,
        "tier": customer.tier.value if customer.tier else None,
        "serving_channel": customer.serving_channel.value if customer.serving_channel else None,
        "branch": customer.branch,
        "policies": [
            {
                "policy_no": share.policy_no,
                "agent_id": share.agent_id,
                "contribution": str(share.contribution),
                "counted": share.counted,
            }
            for share in customer.policies
        ],
        "service_person_ids": list(customer.service_person_ids),
        "representative_id": choice.agent_id if choice else None,
        "basis": choice.basis.value if choice else None,
        "reason": choice.reason if choice else None,
        "decided_at": customer.decided_at,
        "since": customer.since,
        "revisable_by": sorted(choice.revisable_by) if choice else [],
        "top_performers_first": customer.top_performers_first,
        "unassigned_since": customer.unassigned_since,
        "unassigned_reason": customer.unassigned_reason,
        "revision": customer.revision,
    }


def _agent_of(customer: Customer) -> str | None:
    return customer.representative.agent_id if customer.representative else None


_VIP_VACANT = (customers.c.tier.is_not(None), customers.c.representative_id.is_(None))


class CustomerRepository:
    """Customers locked and loaded in bulk (`lock`, `load_around`), changed in memory under the lock,
    written in one upsert at `flush`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[Customer](
            connection, table=customers, key="customer_id", lock_scope="assignment-customer",
            value_of=customer_of, row_of=row_of_customer,
        )
        self._held: set[str] = set()
        """Every customer locked in this transaction: what the in-memory selections look through."""
        self._moved: dict[str, str | None] = {}
        """Stored customers whose representative this transaction changed, to their new one."""
        self._covered_agents: set[str] = set()
        self._covered_channels: set[Channel] = set()

    async def lock(self, customer_ids: Iterable[str]) -> None:
        wanted = set(customer_ids)
        await self._map.lock(wanted)
        self._held |= wanted

    async def get(self, customer_id: str) -> Customer | None:
        return await self._map.get(customer_id)

    def held(self) -> list[Customer]:
        """Every stored customer this transaction holds the lock of."""
        return [customer for customer_id in sorted(self._held) if (customer := self._map.loaded(customer_id))]

    def representatives(self) -> dict[str, str | None]:
        """Each held customer's representative as this transaction leaves it (None: none, or not stored)."""
        return {customer.customer_id: _agent_of(customer) for customer in self.held()}

    def moved(self) -> dict[str, str | None]:
        """Customers stored before this transaction whose representative it changed, to their new one:
        their pending work items follow (`WorkItemRepository.follow`)."""
        return dict(self._moved)

    def save_customer(self, customer: Customer) -> None:
        """The caller holds the customer's lock (the map refuses otherwise)."""
        before = self._map.loaded(customer.customer_id) if self._map.is_locked(customer.customer_id) else None
        if before is not None and _agent_of(before) != _agent_of(customer):
            self._moved[customer.customer_id] = _agent_of(customer)
        decided_at = customer.decided_at and utc(customer.decided_at)
        self._map.save(customer.customer_id, replace(customer, decided_at=decided_at))

    async def flush(self) -> None:
        await self._map.flush()

    async def load_around(self, agent_ids: Iterable[str], *, channels: Iterable[Channel]) -> None:
        """Lock and load, for HR events about `agent_ids`, every customer `represented_by`,
        `revisable_by` and `vacancies_for` them (for a pool member or top performer of one of
        `channels`) can return, in three statements. Those then answer from memory."""
        ids = sorted(set(agent_ids) - self._covered_agents)
        wanted_channels = sorted(set(channels) - self._covered_channels)
        if not ids and not wanted_channels:
            return
        conditions: list[ColumnElement[bool]] = []
        if ids:
            conditions += [
                customers.c.representative_id.in_(ids),
                customers.c.revisable_by.overlap(ids),
                _vacant(customers.c.service_person_ids.overlap(ids)),
            ]
        if wanted_channels:
            conditions.append(_vacant(customers.c.serving_channel.in_([each.value for each in wanted_channels])))
        await self._lock_where(or_(*conditions))
        self._covered_agents.update(ids)
        self._covered_channels.update(wanted_channels)

    async def represented_by(self, agent_id: str) -> list[Customer]:
        return await self._select(
            lambda customer: customer.representative is not None and customer.representative.agent_id == agent_id,
            covered=agent_id in self._covered_agents,
            condition=customers.c.representative_id == agent_id,
        )

    async def revisable_by(self, agent_id: str) -> list[Customer]:
        return await self._select(
            lambda customer: customer.representative is not None and agent_id in customer.representative.revisable_by,
            covered=agent_id in self._covered_agents,
            condition=customers.c.revisable_by.contains([agent_id]),
        )

    async def vacancies_for(self, agent: Agent) -> list[Customer]:
        """VIPs without a representative whom `agent` could take: through a policy they service, or
        through their serving channel's service pool or top performers."""
        by_channel = agent.role in POOL_ROLES or agent.top_performer
        could_take = customers.c.service_person_ids.contains([agent.agent_id])
        if by_channel:
            could_take = could_take | (customers.c.serving_channel == agent.channel.value)
        return await self._select(
            lambda customer: customer.is_vip
            and customer.representative is None
            and (
                agent.agent_id in customer.service_person_ids
                or (by_channel and customer.serving_channel == agent.channel)
            ),
            covered=agent.agent_id in self._covered_agents
            and (not by_channel or agent.channel in self._covered_channels),
            condition=_vacant(could_take),
        )

    async def _select(
        self, matches: Callable[[Customer], bool], *, covered: bool, condition: ColumnElement[bool]
    ) -> list[Customer]:
        """The customers that match, locked, by id. Not `covered`: the database names them first."""
        if not covered:
            await self._lock_where(condition)
        return [customer for customer in self.held() if matches(customer)]

    async def _lock_where(self, condition: ColumnElement[bool]) -> None:
        """Lock and load every customer matching `condition`, with this transaction's changes
        written first so the database sees them."""
        await self.flush()
        found = await self._connection.execute(select(customers.c.customer_id).where(condition))
        await self.lock(customer_id for (customer_id,) in found.all())

    async def unassigned(self, *, channel: Channel | None, limit: int, offset: int) -> list[Customer]:
        statement = select(customers).where(*_VIP_VACANT)
        if channel is not None:
            statement = statement.where(customers.c.serving_channel == channel.value)
        statement = statement.order_by(customers.c.unassigned_since, customers.c.customer_id)
        rows = await self._connection.execute(statement.limit(limit).offset(offset))
        return [customer_of(row._mapping) for row in rows.all()]

    async def of_representative(self, agent_id: str) -> list[Customer]:
        statement = select(customers).where(customers.c.representative_id == agent_id).order_by(customers.c.customer_id)
        return [customer_of(row._mapping) for row in (await self._connection.execute(statement)).all()]


def _vacant(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """VIPs without a representative that also meet `condition`."""
    return _VIP_VACANT[0] & _VIP_VACANT[1] & condition
