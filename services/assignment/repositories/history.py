"""Every representative change, with its reason and cause, kept for explanation and audit.

Not on `IdentityMap`: the history is append-only (an identity column, no natural key, never
updated), and written under the lock of the customer it is about. Entries are buffered and written
in one statement, in the order saved, at `flush`. The entry's fields are the table's columns.
"""

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.records import HistoryEntry
from services.assignment.tables import representative_history
from shared.sql import insert_rows, row_of

_FIELDS = tuple(field.name for field in fields(HistoryEntry))
assert set(_FIELDS) <= set(representative_history.c.keys()), "every entry field is a column"


class HistoryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._pending: list[dict[str, Any]] = []

    def save_entry(self, entry: HistoryEntry) -> None:
        self._pending.append(row_of(entry))

    async def flush(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            await insert_rows(self._connection, representative_history, rows)

    async def of_customer(self, customer_id: str) -> list[tuple[HistoryEntry, datetime]]:
        """Newest first, each with the time it was recorded."""
        await self.flush()
        table = representative_history
        rows = await self._connection.execute(
            select(table).where(table.c.customer_id == customer_id).order_by(table.c.id.desc())
        )
        return [
            (HistoryEntry(**{name: row._mapping[name] for name in _FIELDS}), row.recorded_at) for row in rows.all()
        ]
