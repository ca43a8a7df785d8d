"""Tiering's unit of work: its repositories on one transaction.

A batch of events is applied in a handful of statements: `prepare` locks and loads every customer
the batch is about (advisory locks, the customers, their last decisions: three statements), the
handlers work on the repositories' identity maps, and `flush` writes the saved customers (one
upsert) and then the recorded decisions (one insert; they refer to their customer) before commit.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.repositories.customers import CustomerRepository
from services.tiering.repositories.decisions import TierDecisionRepository
from services.tiering.repositories.group_clients import GroupClientRepository
from services.tiering.repositories.honorary import HonoraryRepository
from shared.db import UnitOfWork
from shared.events.group import GroupClientScored, GroupFeedbackReported
from shared.events.inbound import CustomerUpserted, LegacyVipImported
from shared.events.internal import CustomerScored
from shared.group_ruleset import GroupRuleset
from shared.ruleset import Ruleset


class TieringUnitOfWork(UnitOfWork):
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
        """Scores carrying at least this many policies are decided once per customer per batch."""
        self.group_clients = GroupClientRepository(connection)
        self.decisions = TierDecisionRepository(connection)
        self.customers = CustomerRepository(connection, decisions=self.decisions)
        self.honorary = HonoraryRepository(connection)
        self.last_score_in_batch: dict[str, int] = {}
        """Each customer's highest `CustomerScored` revision in the batch: the one score that decides
        (`handlers.on_customer_scored` folds the earlier ones in without deciding)."""

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load every customer the batch's events are about, in three statements."""
        for event in events:
            if isinstance(event, CustomerScored):
                latest = self.last_score_in_batch.get(event.customer_id, 0)
                self.last_score_in_batch[event.customer_id] = max(latest, event.revision)
        await self.customers.lock(
            [event.customer_id for event in events if isinstance(event, CustomerScored | LegacyVipImported)]
            + [event.customer.customer_id for event in events if isinstance(event, CustomerUpserted)]
        )
        await self.group_clients.lock(
            event.client_id for event in events if isinstance(event, GroupClientScored | GroupFeedbackReported)
        )

    async def flush(self) -> None:
        await self.customers.flush()
        await self.decisions.flush()
        await self.group_clients.flush()
