"""An in-memory unit of work for assignment's handlers: each repository's small surface over dicts.

Locks are no-ops (one test, one task); everything else behaves as the real repositories do for one
transaction. `test_batches.py` and `test_service.py` run the same handlers on PostgreSQL: the proof
that fake and real agree.
"""

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import cast

from services.assignment.domain.account_managers import GroupClient
from services.assignment.domain.assignment import POOL_ROLES, Agent
from services.assignment.domain.duties import CrmProfile, ItemState, NewItem
from services.assignment.domain.facts import Contact
from services.assignment.domain.records import Customer, HistoryEntry, StoredAgent
from services.assignment.repositories import AssignmentUnitOfWork
from shared.events.internal import InternalEvent
from shared.events.values import Channel
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

RULESET = load_ruleset(DEFAULT_RULESET_PATH)


class FakeCustomers:
    def __init__(self) -> None:
        self.stored: dict[str, Customer] = {}

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Nothing to wait for in memory."""

    async def get(self, customer_id: str) -> Customer | None:
        return self.stored.get(customer_id)

    def save_customer(self, customer: Customer) -> None:
        self.stored[customer.customer_id] = customer

    def _where(self, matches: Callable[[Customer], bool]) -> list[Customer]:
        return [customer for _, customer in sorted(self.stored.items()) if matches(customer)]

    async def represented_by(self, agent_id: str) -> list[Customer]:
        return self._where(lambda each: each.representative is not None and each.representative.agent_id == agent_id)

    async def revisable_by(self, agent_id: str) -> list[Customer]:
        return self._where(
            lambda each: each.representative is not None and agent_id in each.representative.revisable_by
        )

    async def load_around(self, agent_ids: Iterable[str], *, channels: Iterable[Channel]) -> None:
        """All in memory already."""

    async def vacancies_for(self, agent: Agent) -> list[Customer]:
        by_channel = agent.role in POOL_ROLES or agent.top_performer
        return self._where(
            lambda each: each.is_vip
            and each.representative is None
            and (agent.agent_id in each.service_person_ids or (by_channel and each.serving_channel == agent.channel))
        )


class FakeAgents:
    def __init__(self) -> None:
        self.stored: dict[str, StoredAgent] = {}

    async def lock(self, agent_ids: Iterable[str]) -> None:
        """Nothing to wait for in memory."""

    async def get(self, agent_id: str) -> StoredAgent | None:
        return self.stored.get(agent_id)

    def save_agent(self, stored: StoredAgent) -> None:
        before = self.stored.get(stored.agent_id)
        self.stored[stored.agent_id] = replace(stored, load=before.load if before else 0)

    async def departing(self, *, as_of: date, after: str, limit: int) -> list[str]:
        due = sorted(
            agent_id
            for agent_id, stored in self.stored.items()
            if stored.departs_on is not None and stored.departs_on <= as_of and agent_id > after
        )
        return due[:limit]

    async def flush(self) -> None:
        """Nothing buffered in memory."""

    def add_load(self, agent_id: str, delta: int) -> None:
        if agent_id in self.stored:
            self.stored[agent_id] = replace(self.stored[agent_id], load=self.stored[agent_id].load + delta)

    async def candidates(
        self, *, named: Collection[str], pools: Mapping[Channel, int], top_performers: Mapping[Channel, int]
    ) -> tuple[dict[str, Agent], dict[str, int]]:
        """Everyone with a profile: the rules pick the pool members and top performers themselves."""
        known = [stored for stored in self.stored.values() if stored.agent is not None]
        return {each.agent_id: each.agent for each in known if each.agent}, {each.agent_id: each.load for each in known}


class FakeContacts:
    def __init__(self) -> None:
        self.stored: set[Contact] = set()

    async def load(self, customer_ids: Iterable[str]) -> None:
        """All in memory already."""

    async def save_contact(self, contact: Contact) -> None:
        self.stored.add(contact)

    async def latest(self, customer_id: str, *, until: datetime) -> dict[str, datetime]:
        latest: dict[str, datetime] = {}
        for contact in self.stored:
            moment = contact.contacted_at
            if contact.customer_id == customer_id and moment <= until:
                latest[contact.agent_id] = max(moment, latest.get(contact.agent_id, moment))
        return latest


class FakeHistory:
    def __init__(self) -> None:
        self.entries: list[HistoryEntry] = []

    def save_entry(self, entry: HistoryEntry) -> None:
        self.entries.append(entry)


class FakeProfiles:
    def __init__(self) -> None:
        self.stored: dict[str, CrmProfile] = {}

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Nothing to wait for in memory."""

    async def get(self, customer_id: str) -> CrmProfile | None:
        return self.stored.get(customer_id)

    def save_profile(self, profile: CrmProfile) -> None:
        self.stored[profile.customer_id] = profile


class FakeWorkItems:
    """Items by (customer, occasion key) with their state: `add` keeps an item already stored (a
    cancelled or pending one takes the new dates and reopens, as the real upsert does)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple[NewItem, ItemState]] = {}

    def touch(self, customer_ids: Iterable[str]) -> None:
        """The representative follows at the real flush; nothing stored here names one."""

    def add(self, items: Iterable[NewItem]) -> None:
        for item in items:
            key = (item.customer_id, item.occasion_key)
            if key in self.items and self.items[key][1] is ItemState.DONE:
                continue
            self.items[key] = (item, ItemState.OPEN)

    def cancel_pending(self, customer_id: str) -> None:
        for key, (item, state) in self.items.items():
            if key[0] == customer_id and state in (ItemState.OPEN, ItemState.OVERDUE):
                self.items[key] = (item, ItemState.CANCELLED)

    def of(self, customer_id: str) -> dict[str, tuple[NewItem, ItemState]]:
        return {key: value for (customer, key), value in sorted(self.items.items()) if customer == customer_id}


class FakeGroupClients:
    def __init__(self, agents: FakeAgents) -> None:
        self.stored: dict[str, GroupClient] = {}
        self._agents = agents

    async def lock(self, client_ids: Iterable[str]) -> None:
        """Nothing to wait for in memory."""

    async def get(self, client_id: str) -> GroupClient | None:
        return self.stored.get(client_id)

    def save_client(self, client: GroupClient) -> None:
        self.stored[client.client_id] = client

    async def managed_by(self, agent_id: str) -> list[GroupClient]:
        return [each for _, each in sorted(self.stored.items()) if each.manager and each.manager.agent_id == agent_id]

    async def vacancies(self, *, limit: int = 1000) -> list[GroupClient]:
        return [each for _, each in sorted(self.stored.items()) if each.is_vip and each.manager is None][:limit]

    async def staff(self) -> tuple[dict[str, Agent], dict[str, int]]:
        people = {
            each.agent_id: each.agent for each in self._agents.stored.values()
            if each.agent is not None and each.agent.assignable and each.agent.channel is Channel.GROUP
        }
        loads = Counter(each.manager.agent_id for each in self.stored.values() if each.manager is not None)
        return people, {agent_id: loads[agent_id] for agent_id in people}

    def move(self, *, before: str | None, after: str | None) -> None:
        """Loads are counted from the clients each time."""

    def forget_staff(self) -> None:
        """Nothing cached."""


class FakeUnitOfWork:
    """What handlers use of `AssignmentUnitOfWork`; `typed()` hands it to them under that type."""

    def __init__(self) -> None:
        self.ruleset = RULESET
        self.customers = FakeCustomers()
        self.agents = FakeAgents()
        self.contacts = FakeContacts()
        self.history = FakeHistory()
        self.profiles = FakeProfiles()
        self.work_items = FakeWorkItems()
        self.group_clients = FakeGroupClients(self.agents)
        self.stale_events = 0
        self.published: list[InternalEvent] = []

    def mark_stale(self) -> None:
        self.stale_events += 1

    def publish(self, events: Sequence[InternalEvent]) -> None:
        """What a daily-run step publishes (handlers return theirs)."""
        self.published.extend(events)

    def typed(self) -> AssignmentUnitOfWork:
        return cast(AssignmentUnitOfWork, self)
