"""Scoring's statements, and the unit of work that carries them through one transaction.

Concurrency: every path that re-scores a customer (a policy event, the daily run) first takes the
customer's transaction-scoped advisory lock, in customer-id order, and only then reads the policies
the customer holds. Two transactions can therefore never both compute a customer's score from
policies the other is changing and publish the older picture last.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain import CustomerScore, PolicyScore
from services.scoring.tables import customers, daily_runs, policies, stale_policy_events
from shared.db import UnitOfWork
from shared.events.inbound import PolicyChanged, PolicyState
from shared.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    version: int
    holder_id: str


@dataclass(frozen=True, slots=True)
class StaleSummary:
    count: int
    last_version: int


def policy_score_document(score: PolicyScore) -> dict[str, Any]:
    """A policy's contribution as stored and served: every figure of its formula, money as strings."""
    breakdown = score.breakdown
    return {
        "policy_no": score.policy_no,
        "channel": score.channel.value,
        "branch": score.branch,
        "agent_id": score.agent_id,
        "issued_on": score.issued_on.isoformat(),
        "state": score.state,
        "verdict": score.verdict,
        "formula": breakdown.formula if breakdown else None,
        "factor": f"{breakdown.factor.normalize():f}" if breakdown else None,
        "base": breakdown.base if breakdown else None,
        "base_amount": f"{breakdown.base_amount:.2f}" if breakdown else None,
        "legacy_factor": f"{breakdown.legacy_factor.normalize():f}" if breakdown else None,
        "points": f"{score.points:.2f}",
        "standard_premium": f"{score.standard_premium:.2f}",
        "pending_points": f"{score.pending_points:.2f}",
        "pending_until": score.pending_until.isoformat() if score.pending_until else None,
        "explanation": score.explanation,
    }


class PolicyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def stored(self, policy_no: str) -> StoredPolicy | None:
        row = (
            await self._connection.execute(
                select(policies.c.version, policies.c.holder_id)
                .where(policies.c.policy_no == policy_no)
                .with_for_update()
            )
        ).one_or_none()
        return StoredPolicy(version=row.version, holder_id=row.holder_id) if row else None

    async def save(self, policy: PolicyState, *, event_type: str) -> None:
        values = {
            "policy_no": policy.policy_no,
            "holder_id": policy.holder_id,
            "version": policy.version,
            "state": policy.model_dump(mode="json"),
            "last_event_type": event_type,
        }
        statement = insert(policies).values(values)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[policies.c.policy_no], set_={**values, "updated_at": func.now()}
            )
        )

    async def held_by(self, holder_id: str) -> list[PolicyState]:
        rows = await self._connection.execute(
            select(policies.c.state).where(policies.c.holder_id == holder_id).order_by(policies.c.policy_no)
        )
        return [PolicyState.model_validate(state) for state in rows.scalars()]

    async def record_stale(self, event: PolicyChanged, *, applied_version: int) -> None:
        await self._connection.execute(
            insert(stale_policy_events)
            .values(
                event_id=event.event_id,
                policy_no=event.policy.policy_no,
                event_type=event.event_type,
                version=event.policy.version,
                applied_version=applied_version,
                occurred_at=event.occurred_at,
            )
            .on_conflict_do_nothing()
        )

    async def stale_summaries(self, policy_nos: Iterable[str]) -> dict[str, StaleSummary]:
        rows = await self._connection.execute(
            select(
                stale_policy_events.c.policy_no,
                func.count().label("ignored"),
                func.max(stale_policy_events.c.version).label("last_version"),
            )
            .where(stale_policy_events.c.policy_no.in_(list(policy_nos)))
            .group_by(stale_policy_events.c.policy_no)
        )
        return {row.policy_no: StaleSummary(count=row.ignored, last_version=row.last_version) for row in rows}


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Serialise re-scoring per customer until the transaction ends (ids in order: no deadlock)."""
        for customer_id in sorted(set(customer_ids)):
            await self._connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"scoring-customer:{customer_id}"},
            )

    async def scored_as_of(self, customer_id: str) -> date | None:
        value = await self._connection.scalar(
            select(customers.c.scored_as_of).where(customers.c.customer_id == customer_id)
        )
        return value if isinstance(value, date) else None

    async def record_score(
        self, customer_id: str, score: CustomerScore, *, as_of: date, trigger: str, ruleset_version: str
    ) -> int:
        """Store the score; returns the customer's new revision."""
        values = {
            "points": score.points,
            "standard_premium": score.standard_premium,
            "pending_points": score.pending_points,
            "serving_channel": score.serving_channel.value if score.serving_channel else None,
            "next_pending_date": score.next_pending_date,
            "scored_as_of": as_of,
            "trigger": trigger,
            "ruleset_version": ruleset_version,
            "policies": [policy_score_document(policy) for policy in score.policies],
        }
        statement = insert(customers).values(customer_id=customer_id, revision=1, **values)
        revision = await self._connection.scalar(
            statement.on_conflict_do_update(
                index_elements=[customers.c.customer_id],
                set_={**values, "revision": customers.c.revision + 1, "updated_at": func.now()},
            ).returning(customers.c.revision)
        )
        if revision is None:
            raise RuntimeError(f"storing the score of {customer_id} returned no revision")
        return int(revision)

    async def due(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Customers with a pending policy whose cooling-off ends on or before `as_of` (by index)."""
        rows = await self._connection.execute(
            select(customers.c.customer_id)
            .where(customers.c.next_pending_date <= as_of, customers.c.customer_id > after)
            .order_by(customers.c.customer_id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def stored_view(self, customer_id: str) -> dict[str, Any] | None:
        row = (
            await self._connection.execute(select(customers).where(customers.c.customer_id == customer_id))
        ).one_or_none()
        return dict(row._mapping) if row else None


class DailyRunRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def latest(self) -> date | None:
        value = await self._connection.scalar(select(func.max(daily_runs.c.as_of)))
        return value if isinstance(value, date) else None

    async def record(self, *, as_of: date, changed: int) -> None:
        statement = insert(daily_runs).values(as_of=as_of, changed=changed, runs=1)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[daily_runs.c.as_of],
                set_={"changed": changed, "runs": daily_runs.c.runs + 1, "ran_at": func.now()},
            )
        )


class ScoringUnitOfWork(UnitOfWork):
    def __init__(
        self, connection: AsyncConnection, *, ruleset: Ruleset
    ) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.policies = PolicyRepository(connection)
        self.customers = CustomerRepository(connection)
        self.daily_runs = DailyRunRepository(connection)
