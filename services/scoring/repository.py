"""Scoring's statements, and the unit of work that carries them through one transaction.

Concurrency: every path that re-scores a customer (a policy event, the daily run) first takes the
customer's transaction-scoped advisory lock, in customer-id order, and only then reads the policies
the customer holds. Two transactions can therefore never both compute a customer's score from
policies the other is changing and publish the older picture last.
"""

from collections.abc import Iterable, Sequence
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
from shared.sql import any_of


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
    """Policies, with an identity map for the transaction: what is loaded once is read from memory,
    and saves are written in one statement at the end (`flush`)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._stored: dict[str, StoredPolicy | None] = {}
        self._held: dict[str, dict[str, PolicyState]] = {}
        self._dirty: dict[str, dict[str, Any]] = {}
        self._stale: list[dict[str, Any]] = []

    async def preload(self, policy_nos: Iterable[str]) -> set[str]:
        """Lock and remember the batch's policies; returns the customers who hold them now."""
        wanted = sorted(set(policy_nos) - set(self._stored))
        if not wanted:
            return set()
        rows = await self._connection.execute(
            select(policies.c.policy_no, policies.c.version, policies.c.holder_id)
            .where(any_of(policies.c.policy_no, "policy_nos"))
            .order_by(policies.c.policy_no)
            .with_for_update(),
            {"policy_nos": wanted},
        )
        self._stored.update(dict.fromkeys(wanted))
        holders = set()
        for row in rows:
            self._stored[row.policy_no] = StoredPolicy(version=row.version, holder_id=row.holder_id)
            holders.add(row.holder_id)
        return holders

    async def preload_holders(self, holder_ids: Iterable[str]) -> None:
        wanted = sorted(set(holder_ids) - set(self._held))
        if not wanted:
            return
        rows = await self._connection.execute(
            select(policies.c.holder_id, policies.c.state).where(any_of(policies.c.holder_id, "holders")),
            {"holders": wanted},
        )
        for holder_id in wanted:
            self._held[holder_id] = {}
        for row in rows:
            policy = PolicyState.model_validate(row.state)
            self._held[row.holder_id][policy.policy_no] = policy

    async def stored(self, policy_no: str) -> StoredPolicy | None:
        if policy_no not in self._stored:
            await self.preload([policy_no])
        return self._stored[policy_no]

    async def save(self, policy: PolicyState, *, event_type: str) -> None:
        previous = self._stored.get(policy.policy_no)
        if previous is not None and previous.holder_id in self._held:
            self._held[previous.holder_id].pop(policy.policy_no, None)
        if policy.holder_id in self._held:
            self._held[policy.holder_id][policy.policy_no] = policy
        self._stored[policy.policy_no] = StoredPolicy(version=policy.version, holder_id=policy.holder_id)
        self._dirty[policy.policy_no] = {
            "policy_no": policy.policy_no,
            "holder_id": policy.holder_id,
            "version": policy.version,
            "state": policy.model_dump(mode="json"),
            "last_event_type": event_type,
        }

    async def held_by(self, holder_id: str) -> list[PolicyState]:
        if holder_id not in self._held:
            await self.preload_holders([holder_id])
        held = self._held[holder_id]
        return [held[policy_no] for policy_no in sorted(held)]

    async def record_stale(self, event: PolicyChanged, *, applied_version: int) -> None:
        self._stale.append(
            {
                "event_id": event.event_id,
                "policy_no": event.policy.policy_no,
                "event_type": event.event_type,
                "version": event.policy.version,
                "applied_version": applied_version,
                "occurred_at": event.occurred_at,
            }
        )

    async def flush(self) -> None:
        if self._dirty:
            statement = insert(policies)
            await self._connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[policies.c.policy_no],
                    set_={
                        "holder_id": statement.excluded.holder_id,
                        "version": statement.excluded.version,
                        "state": statement.excluded.state,
                        "last_event_type": statement.excluded.last_event_type,
                        "updated_at": func.now(),
                    },
                ),
                list(self._dirty.values()),
            )
            self._dirty.clear()
        if self._stale:
            await self._connection.execute(insert(stale_policy_events).on_conflict_do_nothing(), self._stale)
            self._stale.clear()

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


@dataclass(frozen=True, slots=True)
class _CustomerRow:
    revision: int
    scored_as_of: date


class CustomerRepository:
    """Customers' scores: locked and loaded in bulk, written in one statement at the end."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._locked: set[str] = set()
        self._rows: dict[str, _CustomerRow | None] = {}
        self._dirty: dict[str, dict[str, Any]] = {}

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Serialise re-scoring per customer until the transaction ends.

        Locks are taken in customer-id order (a sorted subquery feeding one aggregate), so two
        transactions locking overlapping sets cannot deadlock on them.
        """
        wanted = sorted(set(customer_ids) - self._locked)
        if not wanted:
            return
        await self._connection.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(h)) FROM "
                "(SELECT hashtextextended('scoring-customer:' || k, 0) AS h "
                "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"
            ),
            {"keys": wanted},
        )
        self._locked.update(wanted)

    async def preload(self, customer_ids: Iterable[str]) -> None:
        wanted = sorted(set(customer_ids) - set(self._rows))
        if not wanted:
            return
        rows = await self._connection.execute(
            select(customers.c.customer_id, customers.c.revision, customers.c.scored_as_of).where(
                any_of(customers.c.customer_id, "customer_ids")
            ),
            {"customer_ids": wanted},
        )
        self._rows.update(dict.fromkeys(wanted))
        for row in rows:
            self._rows[row.customer_id] = _CustomerRow(revision=row.revision, scored_as_of=row.scored_as_of)

    async def scored_as_of(self, customer_id: str) -> date | None:
        if customer_id not in self._rows:
            await self.preload([customer_id])
        row = self._rows[customer_id]
        return row.scored_as_of if row else None

    async def record_score(
        self, customer_id: str, score: CustomerScore, *, as_of: date, trigger: str, ruleset_version: str
    ) -> int:
        """Buffer the score; returns the customer's new revision.

        The revision is counted here, not by the database: the caller holds the customer's lock, so
        no other transaction can write the customer before this one commits.
        """
        if customer_id not in self._locked:
            raise RuntimeError(f"re-scoring {customer_id} without holding the customer's lock")
        if customer_id not in self._rows:
            await self.preload([customer_id])
        current = self._rows[customer_id]
        revision = current.revision + 1 if current else 1
        self._rows[customer_id] = _CustomerRow(revision=revision, scored_as_of=as_of)
        self._dirty[customer_id] = {
            "customer_id": customer_id,
            "revision": revision,
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
        return revision

    async def flush(self) -> None:
        if not self._dirty:
            return
        statement = insert(customers)
        columns = [name for name in next(iter(self._dirty.values())) if name != "customer_id"]
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[customers.c.customer_id],
                set_={**{name: statement.excluded[name] for name in columns}, "updated_at": func.now()},
            ),
            list(self._dirty.values()),
        )
        self._dirty.clear()

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
        self._latest: tuple[date | None] | None = None

    async def latest(self) -> date | None:
        """The last date a daily run ran for; read once per transaction."""
        if self._latest is None:
            value = await self._connection.scalar(select(func.max(daily_runs.c.as_of)))
            self._latest = (value if isinstance(value, date) else None,)
        return self._latest[0]

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

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load the batch's policies and their holders in a handful of statements."""
        changes = [event for event in events if isinstance(event, PolicyChanged)]
        if not changes:
            return
        holders = await self.policies.preload(event.policy.policy_no for event in changes)
        for event in changes:
            holders.add(event.policy.holder_id)
            if event.previous_holder_id:
                holders.add(event.previous_holder_id)
        await self.customers.lock(holders)
        await self.policies.preload_holders(holders)
        await self.customers.preload(holders)
        await self.daily_runs.latest()

    async def flush(self) -> None:
        await self.policies.flush()
        await self.customers.flush()
