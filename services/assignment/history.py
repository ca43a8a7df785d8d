"""Every representative change, with its reason and cause, kept for explanation and audit."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.tables import representative_history


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    customer_id: str
    revision: int | None
    """The `RepresentativeChanged` revision it was published as; None: recorded only (a new VIP nobody
    could be found for has no representative before or after, so there is nothing to publish)."""
    agent_id: str | None
    agent_name: str | None
    agent_channel: str | None
    basis: str | None
    reason: str
    effective_at: date
    decided_at: datetime
    cause_event_id: str
    cause_event_type: str


_INSERT = insert(representative_history)


class HistoryRepository:
    """Entries are buffered and written in one statement, in the order appended, at `flush`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._pending: list[dict[str, object]] = []

    async def append(self, entry: HistoryEntry) -> None:
        self._pending.append(
            {
                "customer_id": entry.customer_id,
                "revision": entry.revision,
                "agent_id": entry.agent_id,
                "agent_name": entry.agent_name,
                "agent_channel": entry.agent_channel,
                "basis": entry.basis,
                "reason": entry.reason,
                "effective_at": entry.effective_at,
                "decided_at": entry.decided_at,
                "cause_event_id": entry.cause_event_id,
                "cause_event_type": entry.cause_event_type,
            }
        )

    async def flush(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            await self._connection.execute(_INSERT, rows)

    async def of_customer(self, customer_id: str) -> list[tuple[HistoryEntry, datetime]]:
        """Newest first, each with the time it was recorded."""
        await self.flush()
        table = representative_history
        rows = await self._connection.execute(
            select(table).where(table.c.customer_id == customer_id).order_by(table.c.id.desc())
        )
        return [
            (
                HistoryEntry(
                    customer_id=row.customer_id,
                    revision=row.revision,
                    agent_id=row.agent_id,
                    agent_name=row.agent_name,
                    agent_channel=row.agent_channel,
                    basis=row.basis,
                    reason=row.reason,
                    effective_at=row.effective_at,
                    decided_at=row.decided_at,
                    cause_event_id=row.cause_event_id,
                    cause_event_type=row.cause_event_type,
                ),
                row.recorded_at,
            )
            for row in rows.all()
        ]
