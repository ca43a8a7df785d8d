"""Contacts between service persons and customers: the most recent one breaks a tie between equal
contributions.

Not on `IdentityMap`: contacts are append-only rows keyed by (customer, person, moment) and read per
customer, never changed, so there is nothing to lock (a customer's contacts are read under the
customer's lock) and nothing to update: new ones are inserted at `flush`, a redelivered one ignored.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.facts import Contact
from services.assignment.repositories.agents import utc
from services.assignment.tables import contacts
from shared.sql import any_of

_SELECT_CONTACTS = select(contacts).where(any_of(contacts.c.customer_id, "ids"))
_INSERT_CONTACTS = insert(contacts).on_conflict_do_nothing()


class ContactRepository:
    """Every contact of the customers a transaction looks at, loaded once (`load`); new ones written at `flush`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._by_customer: dict[str, set[tuple[str, datetime]]] = {}
        self._new: dict[Contact, None] = {}

    async def load(self, customer_ids: Iterable[str]) -> None:
        wanted = sorted(set(customer_ids) - set(self._by_customer))
        if not wanted:
            return
        for customer_id in wanted:
            self._by_customer[customer_id] = set()
        for row in await self._connection.execute(_SELECT_CONTACTS, {"ids": wanted}):
            self._by_customer[row.customer_id].add((row.agent_id, utc(row.contacted_at)))

    async def save_contact(self, contact: Contact) -> None:
        await self.load([contact.customer_id])
        moment = utc(contact.contacted_at)
        self._new[Contact(customer_id=contact.customer_id, agent_id=contact.agent_id, contacted_at=moment)] = None
        self._by_customer[contact.customer_id].add((contact.agent_id, moment))

    async def latest(self, customer_id: str, *, until: datetime) -> dict[str, datetime]:
        """Each person's most recent contact with the customer at or before `until`."""
        await self.load([customer_id])
        latest: dict[str, datetime] = {}
        for agent_id, moment in self._by_customer[customer_id]:
            if moment <= until and (agent_id not in latest or moment > latest[agent_id]):
                latest[agent_id] = moment
        return latest

    async def flush(self) -> None:
        if not self._new:
            return
        rows = [
            {column.name: getattr(contact, column.name) for column in contacts.columns} for contact in self._new
        ]
        self._new.clear()
        await self._connection.execute(_INSERT_CONTACTS, rows)
