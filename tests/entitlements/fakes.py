"""An in-memory entitlements unit of work: each repository's small surface over dicts.

Only what the handlers touch: customers (lock, get, save) with their tier timeline, and open
periods. `test_batches.py` runs the same handlers against PostgreSQL: the proof the two agree.
"""

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import cast

from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.customers import Customer
from services.entitlements.domain.group_clients import GroupClient
from services.entitlements.domain.periods import Period
from services.entitlements.repositories import EntitlementsUnitOfWork
from services.entitlements.repositories.periods import OpenPeriod
from shared.db import UnitOfWork
from shared.events.values import Tier
from shared.ruleset import Ruleset


class FakeCustomers:
    def __init__(self) -> None:
        self.stored: dict[str, Customer] = {}
        self.locked: set[str] = set()
        self.timeline: list[tuple[str, int, date | None, Tier | None]] = []

    async def lock(self, customer_ids: Iterable[str]) -> None:
        self.locked.update(customer_ids)

    async def get(self, customer_id: str) -> Customer | None:
        return self.stored.get(customer_id)

    def save_customer(self, customer: Customer) -> None:
        if customer.customer_id not in self.locked:
            raise RuntimeError(f"saving customer {customer.customer_id} without holding its lock")
        self.stored[customer.customer_id] = customer

    def save_tier_change(self, customer: Customer) -> None:
        self.timeline.append(
            (customer.customer_id, customer.tier_revision, customer.tier_effective_at, customer.tier)
        )


class FakePeriods:
    """Open periods by customer; every period ever opened, with its state, in `history`."""

    def __init__(self) -> None:
        self.open: dict[str, OpenPeriod] = {}
        self.history: dict[int, tuple[str, Period, str, str]] = {}
        self.last_replaced: dict[str, OpenPeriod] = {}

    async def get(self, customer_id: str) -> OpenPeriod | None:
        return self.open.get(customer_id)

    async def replaced(self, customer_id: str) -> OpenPeriod | None:
        return self.last_replaced.get(customer_id)

    def save_closed(self, period_id: int, *, state: str) -> None:
        customer_id, period, _, opened_by = self.history[period_id]
        self.history[period_id] = (customer_id, period, state, opened_by)
        if (found := self.open.get(customer_id)) is not None and found.period_id == period_id:
            del self.open[customer_id]
            if state == "replaced":
                self.last_replaced[customer_id] = found

    def save_withdrawn(self, customer_id: str, opened: OpenPeriod, *, end: date, withdrawn_on: date) -> None:
        _, period, _, opened_by = self.history[opened.period_id]
        self.history[opened.period_id] = (customer_id, replace(period, end=end), "withdrawn", opened_by)
        del self.open[customer_id]

    def save_reopened(self, customer_id: str, replaced: OpenPeriod) -> None:
        _, period, _, opened_by = self.history[replaced.period_id]
        self.history[replaced.period_id] = (customer_id, period, "open", opened_by)
        self.open[customer_id] = replaced
        del self.last_replaced[customer_id]

    def save_opened(
        self, customer_id: str, period: Period, *, opened_by: str, counted_policies: frozenset[str] | None = None
    ) -> None:
        period_id = len(self.history) + 1
        self.history[period_id] = (customer_id, period, "open", opened_by)
        self.open[customer_id] = OpenPeriod(period_id=period_id, period=period, counted_policies=counted_policies)

    def of(self, customer_id: str) -> list[tuple[Tier, date, date, str, str]]:
        """The customer's periods in the order opened: tier, start, end, state, opened by."""
        return [
            (period.tier, period.start, period.end, state, opened_by)
            for owner, period, state, opened_by in self.history.values()
            if owner == customer_id
        ]


class FakeGroupClients:
    """Group clients by id, and the level history (client, previous, level, effective) in `moves`."""

    def __init__(self) -> None:
        self.stored: dict[str, GroupClient] = {}
        self.locked: set[str] = set()
        self.moves: list[tuple[str, str | None, str | None, date]] = []

    async def lock(self, client_ids: Iterable[str]) -> None:
        self.locked.update(client_ids)

    async def get(self, client_id: str) -> GroupClient | None:
        return self.stored.get(client_id)

    def save_client(self, client: GroupClient) -> None:
        if client.client_id not in self.locked:
            raise RuntimeError(f"saving group client {client.client_id} without holding its lock")
        self.stored[client.client_id] = client

    def save_move(
        self, *, client_id: str, level: str | None, previous: str | None, branch: str | None, on: date
    ) -> None:
        self.moves.append((client_id, previous, level, on))


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, *, ruleset: Ruleset) -> None:
        super().__init__(cast(AsyncConnection, None))
        self.ruleset = ruleset
        self.customers = FakeCustomers()
        self.periods = FakePeriods()
        self.group_clients = FakeGroupClients()

    def typed(self) -> EntitlementsUnitOfWork:
        """Itself, as the handlers' parameter type: it has the surface they use."""
        return cast(EntitlementsUnitOfWork, self)
