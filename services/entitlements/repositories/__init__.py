"""The entitlements unit of work: its repositories on one transaction."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.periods import COOLING_OFF_CANCELLATION
from services.entitlements.repositories.customers import CustomerRepository
from services.entitlements.repositories.group_clients import GroupClientRepository
from services.entitlements.repositories.group_records import GroupRecordRepository
from services.entitlements.repositories.periods import PeriodRepository
from services.entitlements.repositories.redemptions import RedemptionRepository
from services.entitlements.repositories.vendors import VendorRepository
from shared.db import UnitOfWork
from shared.events.group import AccountManagerChanged, GroupLevelDecided
from shared.events.internal import RepresentativeChanged, TierDecided
from shared.group_ruleset import GroupRuleset
from shared.ruleset import Ruleset


class EntitlementsUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset, group_ruleset: GroupRuleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.group_ruleset = group_ruleset
        self.group_clients = GroupClientRepository(connection)
        self.group_records = GroupRecordRepository(connection)
        self.customers = CustomerRepository(connection)
        self.periods = PeriodRepository(connection)
        self.redemptions = RedemptionRepository(connection)
        self.vendors = VendorRepository(connection)

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load the batch's customers, then the open periods of those with a tier decision:
        a few statements for the whole batch, the locks in customer-id order."""
        group = (GroupLevelDecided, AccountManagerChanged)
        await self.group_clients.lock(sorted({event.client_id for event in events if isinstance(event, group)}))
        customer_ids = {event.customer_id for event in events if isinstance(event, TierDecided | RepresentativeChanged)}
        if not customer_ids:
            return
        await self.customers.lock(customer_ids)
        await self.periods.load(event.customer_id for event in events if isinstance(event, TierDecided))
        await self.periods.load_replaced(
            event.customer_id
            for event in events
            if isinstance(event, TierDecided) and event.trigger == COOLING_OFF_CANCELLATION
        )

    async def flush(self) -> None:
        await self.customers.flush()
        await self.periods.flush()
        await self.group_clients.flush()
