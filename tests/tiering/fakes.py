"""An in-memory unit of work for tiering's handlers: the repositories' small surface over dicts.

It keeps the real repositories' contract where the handlers rely on it: a customer must be locked
before it is read, one never seen starts empty, a save replaces what a later read sees, and every
decision saved is kept in order. `test_batches.py` runs the same handlers on PostgreSQL.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.domain.customers import CustomerTiering
from services.tiering.domain.group import Evaluation
from services.tiering.domain.group_state import GroupClientState
from services.tiering.domain.tiers import TierDecision
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.repositories.customers import StoredCustomer
from shared.db import UnitOfWork
from shared.events.internal import CustomerScored
from shared.group_ruleset import GroupRuleset, load_group_ruleset
from shared.ruleset import Ruleset
from shared.settings import DEFAULT_GROUP_RULESET_PATH

GROUP_RULESET = load_group_ruleset(DEFAULT_GROUP_RULESET_PATH)


class FakeCustomers:
    def __init__(self) -> None:
        self.stored: dict[str, StoredCustomer] = {}
        self.locked: set[str] = set()

    async def lock(self, customer_ids: Iterable[str]) -> None:
        self.locked.update(customer_ids)

    async def get(self, customer_id: str) -> StoredCustomer:
        if customer_id not in self.locked:
            raise RuntimeError(f"reading customer {customer_id} without holding its lock")
        empty = StoredCustomer(customer_id=customer_id, state=CustomerTiering(), revision=0)
        return self.stored.get(customer_id, empty)

    def save_customer(
        self, customer_id: str, *, state: CustomerTiering, scored: CustomerScored | None, revision: int
    ) -> None:
        if customer_id not in self.locked:
            raise RuntimeError(f"saving customer {customer_id} without holding its lock")
        stored = StoredCustomer(customer_id=customer_id, state=state, revision=revision, parsed=scored)
        self.stored[customer_id] = stored


@dataclass(frozen=True, kw_only=True)
class SavedDecision:
    customer_id: str
    revision: int
    event_id: str
    correlation_id: str
    decision: TierDecision


class FakeDecisions:
    def __init__(self) -> None:
        self.saved: list[SavedDecision] = []

    def save_decision(
        self, customer_id: str, *, revision: int, event_id: str, correlation_id: str, decision: TierDecision
    ) -> None:
        self.saved.append(
            SavedDecision(
                customer_id=customer_id,
                revision=revision,
                event_id=event_id,
                correlation_id=correlation_id,
                decision=decision,
            )
        )


class FakeGroupClients:
    def __init__(self) -> None:
        self.stored: dict[str, GroupClientState] = {}
        self.locked: set[str] = set()
        self.evaluations: list[tuple[Evaluation, str]] = []

    async def lock(self, client_ids: Iterable[str]) -> None:
        self.locked.update(client_ids)

    async def get(self, client_id: str) -> GroupClientState:
        if client_id not in self.locked:
            raise RuntimeError(f"reading group client {client_id} without holding its lock")
        return self.stored.get(client_id, GroupClientState(client_id=client_id))

    def loaded(self, client_id: str) -> GroupClientState:
        return self.stored.get(client_id, GroupClientState(client_id=client_id))

    def save(self, client: GroupClientState) -> None:
        if client.client_id not in self.locked:
            raise RuntimeError(f"saving group client {client.client_id} without holding its lock")
        self.stored[client.client_id] = client

    def record_evaluation(self, evaluation: Evaluation, *, trigger: str) -> None:
        self.evaluations.append((evaluation, trigger))


class FakeUnitOfWork(UnitOfWork):
    """`TieringUnitOfWork` without a database: `customers` and `decisions` are in memory."""

    def __init__(self, *, ruleset: Ruleset, group_ruleset: GroupRuleset = GROUP_RULESET) -> None:
        super().__init__(cast(AsyncConnection, None))
        self.ruleset = ruleset
        self.group_ruleset = group_ruleset
        self.customers = FakeCustomers()
        self.decisions = FakeDecisions()
        self.group_clients = FakeGroupClients()
        self.last_score_in_batch: dict[str, int] = {}
        self.coalesce_from_policies = 100

    async def prepare(self, events: Sequence[Any]) -> None:
        """As the real `prepare`: note each customer's highest score revision in the batch."""
        for event in events:
            if isinstance(event, CustomerScored):
                latest = self.last_score_in_batch.get(event.customer_id, 0)
                self.last_score_in_batch[event.customer_id] = max(latest, event.revision)

    def as_tiering(self) -> TieringUnitOfWork:
        """What the handlers take: they use only the surface faked here."""
        return cast(TieringUnitOfWork, self)
