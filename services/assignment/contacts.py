"""Contacts between service persons and customers: the most recent one breaks a tie between equal
contributions. Every contact of the customers a transaction looks at is loaded once; new ones are
written at `flush`."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.agents import utc
from services.assignment.tables import contacts
from shared.sql import any_of

_SELECT_CONTACTS = select(contacts).where(any_of(contacts.c.customer_id, "ids"))
_INSERT_CONTACTS = insert(contacts).on_conflict_do_nothing()


class ContactRepository:
    """Every contact of the customers a transaction looks at, loaded once; new ones written at `flush`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._by_customer: dict[str, set[tuple[str, datetime]]] = {}
        self._new: dict[tuple[str, str, datetime], None] = {}

    async def preload(self, customer_ids: Iterable[str]) -> None:
        wanted = sorted(set(customer_ids) - set(self._by_customer))
        if not wanted:
            return
        for customer_id in wanted:
            self._by_customer[customer_id] = set()
        for row in await self._connection.execute(_SELECT_CONTACTS, {"ids": wanted}):
            self._by_customer[row.customer_id].add((row.agent_id, utc(row.contacted_at)))

    async def record(self, *, customer_id: str, agent_id: str, contacted_at: datetime) -> None:
        await self.preload([customer_id])
        moment = utc(contacted_at)
        self._new[(customer_id, agent_id, moment)] = None
        self._by_customer[customer_id].add((agent_id, moment))

    async def latest(self, customer_id: str, *, until: datetime) -> dict[str, datetime]:
        """Each person's most recent contact with the customer at or before `until`."""
        if customer_id not in self._by_customer:
            await self.preload([customer_id])
        latest: dict[str, datetime] = {}
        for agent_id, moment in self._by_customer[customer_id]:
            if moment <= until and (agent_id not in latest or moment > latest[agent_id]):
                latest[agent_id] = moment
        return latest

    async def flush(self) -> None:
        if not self._new:
            return
        rows = [
            {"customer_id": customer_id, "agent_id": agent_id, "contacted_at": moment}
            for customer_id, agent_id, moment in self._new
        ]
        self._new.clear()
        await self._connection.execute(_INSERT_CONTACTS, rows)
