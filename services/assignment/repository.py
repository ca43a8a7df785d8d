"""Assignment's statements, and the unit of work that carries them through one transaction.

Customer rows are read `FOR UPDATE` before a change, so a departure and a tier decision for the same
customer, handled by two consumers at once, apply one after the other. `agents.load` is kept in the
same transaction as every change of `customers.representative_id` (`record_assignment`).
Service persons and contacts are in `services.assignment.agents`.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.agents import AgentRepository, ContactRepository
from services.assignment.domain import POOL_ROLES, Agent, Basis, Choice, PolicyShare
from services.assignment.history import HistoryRepository
from services.assignment.tables import customers
from shared.db import UnitOfWork
from shared.events.values import Channel, Tier
from shared.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    tier_revision: int
    tier: Tier | None
    serving_channel: Channel | None
    policies: tuple[PolicyShare, ...]
    representative: Choice | None
    decided_at: datetime | None
    since: date | None
    top_performers_first: bool
    unassigned_since: date | None
    unassigned_reason: str | None
    revision: int

    @property
    def is_vip(self) -> bool:
        return self.tier is not None

    @property
    def reason(self) -> str:
        """Why the customer has their representative, or why they have none."""
        if self.representative is not None:
            return self.representative.reason
        return self.unassigned_reason or ""


def _shares_json(policies: Collection[PolicyShare]) -> list[dict[str, Any]]:
    return [
        {
            "policy_no": share.policy_no,
            "agent_id": share.agent_id,
            "contribution": str(share.contribution),
            "counted": share.counted,
        }
        for share in policies
    ]


def _customer(row: Row[Any]) -> Customer:
    representative = None
    if row.representative_id is not None:
        representative = Choice(
            agent_id=row.representative_id,
            basis=Basis(row.basis),
            reason=row.reason,
            revisable_by=frozenset(row.revisable_by),
        )
    return Customer(
        customer_id=row.customer_id,
        tier_revision=row.tier_revision,
        tier=Tier(row.tier) if row.tier else None,
        serving_channel=Channel(row.serving_channel) if row.serving_channel else None,
        policies=tuple(
            PolicyShare(
                policy_no=item["policy_no"],
                agent_id=item["agent_id"],
                contribution=Decimal(item["contribution"]),
                counted=item["counted"],
            )
            for item in row.policies
        ),
        representative=representative,
        decided_at=row.decided_at,
        since=row.since,
        top_performers_first=row.top_performers_first,
        unassigned_since=row.unassigned_since,
        unassigned_reason=row.unassigned_reason,
        revision=row.revision,
    )


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        statement = select(customers).where(customers.c.customer_id == customer_id)
        row = (await self._connection.execute(statement.with_for_update() if for_update else statement)).first()
        return _customer(row) if row else None

    async def save_tier(
        self,
        customer_id: str,
        *,
        tier_revision: int,
        tier: Tier | None,
        serving_channel: Channel | None,
        policies: tuple[PolicyShare, ...],
    ) -> Customer:
        values: dict[str, Any] = {
            "tier_revision": tier_revision,
            "tier": tier.value if tier else None,
            "serving_channel": serving_channel.value if serving_channel else None,
            "policies": _shares_json(policies),
            "service_person_ids": sorted(
                {share.agent_id for share in policies if share.counted and share.agent_id is not None}
            ),
        }
        if tier is None:
            values.update(unassigned_since=None, unassigned_reason=None, top_performers_first=False)
        statement = insert(customers).values(customer_id=customer_id, **values)
        row = (
            await self._connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[customers.c.customer_id], set_={**values, "updated_at": func.now()}
                ).returning(*customers.c)
            )
        ).one()
        return _customer(row)

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
                    await AgentRepository(self._connection).add_load(agent_id, delta)
        vacant = choice is None and customer.is_vip
        revision = await self._connection.scalar(
            update(customers)
            .where(customers.c.customer_id == customer.customer_id)
            .values(
                representative_id=after,
                basis=choice.basis.value if choice else None,
                reason=choice.reason if choice else None,
                revisable_by=sorted(choice.revisable_by) if choice else [],
                decided_at=decided_at if choice else None,
                since=since if choice else None,
                top_performers_first=top_performers_first and vacant,
                unassigned_since=(customer.unassigned_since or since) if vacant else None,
                unassigned_reason=unassigned_reason if vacant else None,
                revision=customers.c.revision + (1 if publishing else 0),
                updated_at=func.now(),
            )
            .returning(customers.c.revision)
        )
        assert revision is not None
        return int(revision)

    async def bump_revision(self, customer_id: str) -> int:
        """For republishing an unchanged representative whose name or channel changed."""
        revision = await self._connection.scalar(
            update(customers)
            .where(customers.c.customer_id == customer_id)
            .values(revision=customers.c.revision + 1, updated_at=func.now())
            .returning(customers.c.revision)
        )
        assert revision is not None
        return int(revision)

    async def represented_by(self, agent_id: str) -> list[Customer]:
        return await self._locked(customers.c.representative_id == agent_id)

    async def revisable_by(self, agent_id: str) -> list[Customer]:
        return await self._locked(customers.c.revisable_by.contains([agent_id]))

    async def vacancies_for(self, agent: Agent) -> list[Customer]:
        """VIPs without a representative whom `agent` could take: through a policy they service, or
        through their serving channel's service pool or top performers."""
        could_take = customers.c.service_person_ids.contains([agent.agent_id])
        if agent.role in POOL_ROLES or agent.top_performer:
            could_take = could_take | (customers.c.serving_channel == agent.channel.value)
        return await self._locked(customers.c.tier.is_not(None), customers.c.representative_id.is_(None), could_take)

    async def _locked(self, *conditions: Any) -> list[Customer]:
        statement = select(customers).where(*conditions).order_by(customers.c.customer_id).with_for_update()
        return [_customer(row) for row in (await self._connection.execute(statement)).all()]

    async def unassigned(self, *, channel: Channel | None, limit: int, offset: int) -> list[Customer]:
        statement = select(customers).where(customers.c.tier.is_not(None), customers.c.representative_id.is_(None))
        if channel is not None:
            statement = statement.where(customers.c.serving_channel == channel.value)
        statement = statement.order_by(customers.c.unassigned_since, customers.c.customer_id)
        rows = await self._connection.execute(statement.limit(limit).offset(offset))
        return [_customer(row) for row in rows.all()]

    async def of_representative(self, agent_id: str) -> list[Customer]:
        statement = select(customers).where(customers.c.representative_id == agent_id).order_by(customers.c.customer_id)
        return [_customer(row) for row in (await self._connection.execute(statement)).all()]


class AssignmentUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.agents = AgentRepository(connection)
        self.customers = CustomerRepository(connection)
        self.contacts = ContactRepository(connection)
        self.history = HistoryRepository(connection)
