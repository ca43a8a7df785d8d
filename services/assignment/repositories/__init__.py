"""Assignment's unit of work: one transaction, with the repositories on it.

A batch is applied with a handful of statements, not several per event: `prepare` locks and loads
in bulk what the batch's handlers will read, the repositories serve it from memory (an event later
in the batch sees what an earlier one changed), and `flush` writes every change in one statement
per table just before the commit. A repository asked for something not loaded loads it, so HTTP
reads and single events work the same way.

Customers are in `customers`, service persons in `agents` (their pools in `pools`), contacts in
`contacts`, the history in `history`; the duties' work items in `work_items` (the set-based
statements in `duty_sets`), the CRM profiles in `profiles`.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment import mapping
from services.assignment.domain.assignment import POOL_ROLES, Agent
from services.assignment.repositories.agents import AgentRepository
from services.assignment.repositories.contacts import ContactRepository
from services.assignment.repositories.customers import CustomerRepository
from services.assignment.repositories.group_clients import GroupClientRepository
from services.assignment.repositories.history import HistoryRepository
from services.assignment.repositories.profiles import ProfileRepository
from services.assignment.repositories.work_items import WorkItemRepository
from shared.db import UnitOfWork
from shared.events.values import Channel
from shared.ruleset import Ruleset


class AssignmentUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.agents = AgentRepository(connection)
        self.customers = CustomerRepository(connection)
        self.contacts = ContactRepository(connection)
        self.history = HistoryRepository(connection)
        self.profiles = ProfileRepository(connection)
        self.work_items = WorkItemRepository(connection)
        self.group_clients = GroupClientRepository(connection)

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load what the batch's handlers will read, in a handful of statements: the
        customers of its tier decisions and contacts (first), the persons its HR events change, the
        customers those persons' HR events may move, the persons on all these customers' policies
        and their representatives, their contacts, and the least loaded of the service pools new
        VIPs may fall to."""
        touched = mapping.touched_by(events)
        await self.customers.lock(touched.customer_ids)
        await self.agents.lock(touched.agent_ids)
        if touched.agent_ids:
            await self.customers.load_around(touched.agent_ids, channels=await self._pools_gaining(touched.profiles))
        named = set(touched.named_agent_ids)
        held = self.customers.held()
        for customer in held:
            named.update(share.agent_id for share in customer.policies if share.agent_id is not None)
            if customer.representative is not None:
                named.add(customer.representative.agent_id)
        await self.agents.load(named)
        await self.contacts.load([*touched.customer_ids, *(customer.customer_id for customer in held)])
        await self.agents.load_pools(touched.new_vips_by_pool)
        await self.profiles.load(touched.customer_ids)
        await self.group_clients.lock(mapping.group_clients_of(events))

    async def _pools_gaining(self, profiles: Sequence[Agent]) -> set[Channel]:
        """Channels where a profile in the batch may make a pool member or top performer assignable
        (`vacancies_for` then looks at the channel's unassigned VIPs)."""
        channels = set()
        for profile in profiles:
            if profile.role in POOL_ROLES or profile.top_performer:
                stored = await self.agents.get(profile.agent_id)
                if stored is None or stored.agent is None or not stored.agent.assignable:
                    channels.add(profile.channel)
        return channels

    async def flush(self) -> None:
        await self.agents.flush()
        await self.customers.flush()
        await self.contacts.flush()
        await self.history.flush()
        await self.profiles.flush()
        # after the customers: new items take their customer's representative, and the pending items
        # of customers whose representative changed follow them
        self.work_items.follow(moved=self.customers.moved(), representatives=self.customers.representatives())
        await self.work_items.flush()
        await self.group_clients.flush()
