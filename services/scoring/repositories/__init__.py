"""Scoring's unit of work: its repositories on one transaction.

Locks are always taken in the same order, policies ("scoring-policy") before customers
("scoring-customer") before group clients ("scoring-group-client"), each set in key order, so a
batch and the daily run (customers only) cannot deadlock on them.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain.customers import Cause
from services.scoring.domain.cutover import customers_to_rescore
from services.scoring.mapping import change_of
from services.scoring.repositories.customers import CustomerRepository
from services.scoring.repositories.daily_runs import DailyRunRepository
from services.scoring.repositories.group_clients import GroupClientRepository
from services.scoring.repositories.policies import PolicyRepository
from shared.db import UnitOfWork
from shared.events.inbound import GroupClientUpserted, GroupExperienceReported, PolicyChanged
from shared.events.values import Channel
from shared.group_ruleset import GroupRuleset
from shared.ruleset import Ruleset


class ScoringUnitOfWork(UnitOfWork):
    def __init__(
        self,
        connection: AsyncConnection,
        *,
        ruleset: Ruleset,
        group_ruleset: GroupRuleset,
        coalesce_from_policies: int = 100,
    ) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.group_ruleset = group_ruleset
        self.coalesce_from_policies = coalesce_from_policies
        """A holder of at least this many policies is re-scored once per batch (`handlers`), not per event."""
        self.group_clients = GroupClientRepository(connection)
        self.policies = PolicyRepository(connection)
        self.customers = CustomerRepository(connection)
        self.daily_runs = DailyRunRepository(connection)
        self.pending_rescores: dict[str, tuple[date, Cause]] = {}
        """Customers the batch's events changed, to re-score once at the batch's end: the latest date
        any of their events is scored at, and the last event's cause (`workflows.rescore_at_batch_end`)."""

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load the batch's policies, their holders (old and new) and what those hold,
        in a handful of statements whatever the batch's size."""
        changes = [change_of(event) for event in events if isinstance(event, PolicyChanged)]
        clients = {
            event.client.client_id if isinstance(event, GroupClientUpserted) else event.client_id
            for event in events
            if isinstance(event, GroupClientUpserted | GroupExperienceReported)
        }
        holders: set[str] = set()
        if changes:
            await self.policies.lock(change.policy.policy_no for change in changes)
        for change in changes:
            policy_no = change.policy.policy_no
            stored, kept = await self.policies.get(policy_no), await self.policies.before_cutover(policy_no)
            affected = customers_to_rescore(change, stored=stored, kept=kept, ruleset=self.ruleset)
            holders.update(affected)
            if Channel.GROUP in (change.policy.channel, stored.channel if stored else None):
                clients.update(affected)
        await self.customers.lock(holders)
        await self.policies.load_held_by(holders | clients)
        await self.group_clients.lock(clients)
        await self.daily_runs.latest()

    async def flush(self) -> None:
        await self.policies.flush()
        await self.customers.flush()
        await self.group_clients.flush()
