"""Assignment's unit of work: one transaction, with the repositories on it.

A batch is applied with a handful of statements, not several per event: `prepare` locks and loads
in bulk what the batch's handlers will read, the repositories serve it from memory (an event later
in the batch sees what an earlier one changed), and `flush` writes every change in one statement
per table just before the commit. A repository method asked for something not preloaded loads it,
so HTTP reads and single events work the same way.

Customers are in `services.assignment.customers`, service persons in `services.assignment.agents`
(their pools in `services.assignment.pools`), contacts in `services.assignment.contacts`, the
history in `services.assignment.history`.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.agents import AgentRepository
from services.assignment.contacts import ContactRepository
from services.assignment.customer_rows import Customer
from services.assignment.customers import CustomerRepository
from services.assignment.domain import POOL_ROLES
from services.assignment.history import HistoryRepository
from shared.db import UnitOfWork
from shared.events.inbound import AgentDeparted, AgentDisqualified, AgentUpserted, CustomerContacted
from shared.events.internal import TierDecided
from shared.events.values import Channel
from shared.ruleset import Ruleset

__all__ = ["AssignmentUnitOfWork", "Customer", "CustomerRepository"]


class AssignmentUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.agents = AgentRepository(connection)
        self.customers = CustomerRepository(connection, agents=self.agents)
        self.contacts = ContactRepository(connection)
        self.history = HistoryRepository(connection)

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load what the batch's handlers will read, in a handful of statements: the
        customers of its tier decisions and contacts (first), the persons its HR events change, the
        persons on the decisions' policies, the customers those persons' HR events may move, the
        persons on all these customers' policies and their representatives, their contacts, and the
        least loaded of the service pools new VIPs may fall to."""
        customer_ids = [event.customer_id for event in events if isinstance(event, TierDecided | CustomerContacted)]
        agent_ids = [
            event.agent.agent_id if isinstance(event, AgentUpserted) else event.agent_id
            for event in events
            if isinstance(event, AgentUpserted | AgentDeparted | AgentDisqualified)
        ]
        await self.customers.lock(customer_ids)
        await self.agents.lock(agent_ids)
        if agent_ids:
            await self.customers.preload_around(agent_ids, channels=await self._pools_gaining(events))
        named = {
            share.agent_id
            for event in events
            if isinstance(event, TierDecided)
            for share in event.policies
            if share.agent_id is not None
        }
        loaded = self.customers.loaded()
        for customer in loaded:
            named.update(share.agent_id for share in customer.policies if share.agent_id is not None)
            if customer.representative is not None:
                named.add(customer.representative.agent_id)
        await self.agents.preload(named)
        await self.contacts.preload([*customer_ids, *(customer.customer_id for customer in loaded)])
        await self.agents.preload_pools(
            Counter(
                event.serving_channel
                for event in events
                if isinstance(event, TierDecided) and event.tier is not None and event.serving_channel is not None
            )
        )

    async def _pools_gaining(self, events: Sequence[Any]) -> set[Channel]:
        """Channels where a profile in the batch may make a pool member or top performer assignable
        (`vacancies_for` then looks at the channel's unassigned VIPs)."""
        channels = set()
        for event in events:
            if isinstance(event, AgentUpserted) and (event.agent.role in POOL_ROLES or event.agent.top_performer):
                stored = await self.agents.get(event.agent.agent_id)
                if stored is None or stored.agent is None or not stored.agent.assignable:
                    channels.add(event.agent.channel)
        return channels

    async def flush(self) -> None:
        await self.agents.flush()
        await self.customers.flush()
        await self.contacts.flush()
        await self.history.flush()
