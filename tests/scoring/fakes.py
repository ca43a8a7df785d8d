"""An in-memory stand-in for `ScoringUnitOfWork`: the repositories' small surface over dicts.

It keeps the one rule the real repositories enforce that handlers could get wrong: nothing is saved
without its lock. The batch and service tests against the real PostgreSQL prove the two agree.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

from services.scoring.domain.customers import Cause, CustomerScore
from services.scoring.domain.group import GroupBook, ReportedExperience, newest_first
from services.scoring.domain.policies import Policy, PolicyChange
from services.scoring.mapping import policy_score_document
from services.scoring.repositories import ScoringUnitOfWork
from services.scoring.repositories.customers import StoredCustomer
from services.scoring.repositories.group_clients import StoredGroupClient
from shared.db import BatchFinishers, Finisher, Publishable
from shared.group_ruleset import GroupRuleset, load_group_ruleset
from shared.ruleset import Ruleset
from shared.settings import DEFAULT_GROUP_RULESET_PATH

GROUP_RULESET = load_group_ruleset(DEFAULT_GROUP_RULESET_PATH)


class FakePolicies:
    def __init__(self) -> None:
        self.stored: dict[str, Policy] = {}
        self.before: dict[str, Policy] = {}
        """Policy number -> its version in force on the day before cutover."""
        self.last_event_types: dict[str, str] = {}
        self.stale: list[dict[str, Any]] = []
        self.reconciled: list[dict[str, Any]] = []
        self.locked: set[str] = set()

    async def lock(self, policy_nos: Iterable[str]) -> None:
        self.locked.update(policy_nos)

    async def get(self, policy_no: str) -> Policy | None:
        return self.stored.get(policy_no)

    async def before_cutover(self, policy_no: str) -> Policy | None:
        return self.before.get(policy_no)

    def save_policy(self, policy: Policy, *, event_type: str, before_cutover: Policy | None) -> None:
        if policy.policy_no not in self.locked:
            raise RuntimeError(f"saving policies {policy.policy_no} without holding its lock")
        self.stored[policy.policy_no] = policy
        self.last_event_types[policy.policy_no] = event_type
        if before_cutover is not None:
            self.before[policy.policy_no] = before_cutover

    def save_before_cutover(self, before_cutover: Policy) -> None:
        if before_cutover.policy_no not in self.locked:
            raise RuntimeError(f"saving policies {before_cutover.policy_no} without holding its lock")
        self.before[before_cutover.policy_no] = before_cutover

    async def load_held_by(self, holder_ids: Iterable[str]) -> None:
        """Everything is in memory already."""

    async def held_by(self, holder_id: str) -> list[Policy]:
        return [policy for _, policy in sorted(self.stored.items()) if policy.holder_id == holder_id]

    def book_size(self, holder_id: str) -> int:
        return sum(1 for policy in self.stored.values() if policy.holder_id == holder_id)

    async def held_before_cutover_by(self, holder_id: str) -> list[Policy]:
        return [policy for _, policy in sorted(self.before.items()) if policy.holder_id == holder_id]

    def record_stale(
        self, *, event_id: str, event_type: str, policy: Policy, applied_version: int, occurred_at: datetime
    ) -> None:
        self.stale.append(
            {
                "event_id": event_id,
                "event_type": event_type,
                "version": policy.version,
                "applied_version": applied_version,
            }
        )


    def record_reconciliation(self, change: PolicyChange, *, previous_version: int | None) -> None:
        self.reconciled.append(
            {"event_id": change.event_id, "version": change.policy.version, "previous_version": previous_version}
        )


class FakeCustomers:
    def __init__(self) -> None:
        self.stored: dict[str, StoredCustomer] = {}
        self.locked: set[str] = set()

    async def lock(self, customer_ids: Iterable[str]) -> None:
        self.locked.update(customer_ids)

    async def get(self, customer_id: str) -> StoredCustomer | None:
        return self.stored.get(customer_id)

    async def published(self, customer_id: str) -> StoredCustomer | None:
        return self.stored.get(customer_id)

    async def save_score(
        self, customer_id: str, score: CustomerScore, *, as_of: date, trigger: str, ruleset_version: str
    ) -> int:
        if customer_id not in self.locked:
            raise RuntimeError(f"saving customers {customer_id} without holding its lock")
        current = self.stored.get(customer_id)
        revision = current.revision + 1 if current else 1
        self.stored[customer_id] = StoredCustomer(
            customer_id=customer_id,
            revision=revision,
            points=score.points,
            standard_premium=score.standard_premium,
            pending_points=score.pending_points,
            serving_channel=score.serving_channel.value if score.serving_channel else None,
            next_pending_date=score.next_pending_date,
            scored_as_of=as_of,
            trigger=trigger,
            ruleset_version=ruleset_version,
            policies=tuple(policy_score_document(policy) for policy in score.policies),
            legacy_standard_premium_before_cutover=score.legacy_standard_premium_before_cutover,
        )
        return revision

    async def due(self, *, as_of: date, after: str, limit: int) -> tuple[list[str], str]:
        """The real repository's keyset: `(next_pending_date, customer_id)` after `DATE|ID`."""
        keys = sorted(
            (stored.next_pending_date.isoformat(), customer_id)
            for customer_id, stored in self.stored.items()
            if stored.next_pending_date is not None and stored.next_pending_date <= as_of
        )
        cursor = tuple(after.split("|", 1)) if after else ("", "")
        due = [key for key in keys if key > cursor][:limit]
        return [customer_id for _, customer_id in due], "|".join(due[-1]) if due else ""


class FakeGroupClients:
    def __init__(self) -> None:
        self.stored: dict[str, StoredGroupClient] = {}
        self.experience: dict[str, dict[tuple[date, date], ReportedExperience]] = {}
        self.locked: set[str] = set()

    async def lock(self, client_ids: Iterable[str]) -> None:
        self.locked.update(client_ids)

    async def get(self, client_id: str) -> StoredGroupClient | None:
        return self.stored.get(client_id)

    def save_score(
        self,
        client_id: str,
        *,
        previous: StoredGroupClient | None,
        profile: dict[str, Any] | None,
        book: GroupBook,
        as_of: date,
        trigger: str,
        ruleset_version: str,
    ) -> int:
        if client_id not in self.locked:
            raise RuntimeError(f"saving group client {client_id} without holding its lock")
        revision = previous.revision + 1 if previous else 1
        self.stored[client_id] = StoredGroupClient(
            client_id=client_id,
            revision=revision,
            profile=profile,
            annual_standard_premium=book.annual_standard_premium,
            in_force_policies=book.in_force_policies,
            scored_as_of=as_of,
            trigger=trigger,
            ruleset_version=ruleset_version,
        )
        return revision

    def experience_of(self, client_id: str) -> tuple[ReportedExperience, ...]:
        return newest_first(self.experience.get(client_id, {}).values())

    def report_experience(
        self, client_id: str, experience: ReportedExperience, *, event_id: str, reported_at: datetime
    ) -> None:
        if client_id not in self.locked:
            raise RuntimeError(f"reporting experience of group client {client_id} without holding its lock")
        self.experience.setdefault(client_id, {})[(experience.period_start, experience.period_end)] = experience


class FakeDailyRuns:
    def __init__(self) -> None:
        self.runs: dict[date, int] = {}

    async def latest(self) -> date | None:
        return max(self.runs, default=None)

    async def record(self, *, as_of: date, changed: int) -> None:
        self.runs[as_of] = changed


class FakeUnitOfWork:
    """One "transaction" over the fakes; `as_unit_of_work()` hands it to handlers and workflows."""

    def __init__(self, *, ruleset: Ruleset, group_ruleset: GroupRuleset = GROUP_RULESET) -> None:
        self.ruleset = ruleset
        self.group_ruleset = group_ruleset
        self.group_clients = FakeGroupClients()
        self.policies = FakePolicies()
        self.customers = FakeCustomers()
        self.daily_runs = FakeDailyRuns()
        self.stale_events = 0
        self.published: list[Publishable] = []
        self.pending_rescores: dict[str, tuple[date, Cause]] = {}
        self.coalesce_from_policies = 100
        self._finishers = BatchFinishers()

    def finish_with(self, finisher: Finisher) -> None:
        self._finishers.ask(finisher)

    async def finish_batch(self) -> list[Publishable]:
        """As `shared.db.UnitOfWork.finish_batch`: what the handlers asked to do once per batch."""
        return await self._finishers.run()

    def mark_stale(self) -> None:
        self.stale_events += 1

    def publish(self, events: Iterable[Publishable]) -> None:
        self.published.extend(events)

    def commit(self) -> None:
        """End the "transaction": its locks go, as the real commit releases the advisory locks."""
        self.policies.locked.clear()
        self.customers.locked.clear()
        self.group_clients.locked.clear()

    def as_unit_of_work(self) -> ScoringUnitOfWork:
        """The fake has the same surface as the real unit of work (duck-typed, not a subclass)."""
        return cast(ScoringUnitOfWork, self)
