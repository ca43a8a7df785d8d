"""Scoring's statements, and the unit of work that carries them through one transaction."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain import CustomerScore
from services.scoring.tables import customers, policies
from shared.db import UnitOfWork
from shared.events.inbound import PolicyState
from shared.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    version: int
    holder_id: str


class PolicyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def stored(self, policy_no: str) -> StoredPolicy | None:
        row = (
            await self._connection.execute(
                select(policies.c.version, policies.c.holder_id).where(policies.c.policy_no == policy_no)
            )
        ).one_or_none()
        return StoredPolicy(version=row.version, holder_id=row.holder_id) if row else None

    async def save(self, policy: PolicyState) -> None:
        values = {
            "policy_no": policy.policy_no,
            "holder_id": policy.holder_id,
            "version": policy.version,
            "state": policy.model_dump(mode="json"),
        }
        statement = insert(policies).values(values)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[policies.c.policy_no],
                set_={**values, "updated_at": statement.excluded.updated_at},
            )
        )

    async def held_by(self, holder_id: str) -> list[PolicyState]:
        rows = await self._connection.execute(
            select(policies.c.state).where(policies.c.holder_id == holder_id).order_by(policies.c.policy_no)
        )
        return [PolicyState.model_validate(state) for state in rows.scalars()]


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record_score(self, customer_id: str, score: CustomerScore) -> int:
        """Store the score; returns the customer's new revision."""
        values = {
            "points": score.points,
            "standard_premium": score.standard_premium,
            "pending_points": score.pending_points,
            "serving_channel": score.serving_channel,
            "next_pending_date": score.next_pending_date,
        }
        statement = insert(customers).values(customer_id=customer_id, revision=1, **values)
        revision = await self._connection.scalar(
            statement.on_conflict_do_update(
                index_elements=[customers.c.customer_id],
                set_={**values, "revision": customers.c.revision + 1, "updated_at": statement.excluded.updated_at},
            ).returning(customers.c.revision)
        )
        assert revision is not None
        return int(revision)


class ScoringUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.policies = PolicyRepository(connection)
        self.customers = CustomerRepository(connection)

