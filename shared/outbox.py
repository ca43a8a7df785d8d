"""Writing to the outbox inside the caller's transaction."""

from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.internal import InternalEvent
from shared.messaging_tables import OUTBOX


async def append_to_outbox(connection: AsyncConnection, events: Sequence[InternalEvent]) -> None:
    """Rows are published in `id` order, which keeps one customer's events in the order written."""
    if not events:
        return
    await connection.execute(
        insert(OUTBOX),
        [
            {
                "topic": event.topic,
                "key": event.key,
                "event_id": event.event_id,
                "event_type": getattr(event, "event_type", type(event).__name__),
                "correlation_id": event.correlation_id,
                "payload": event.model_dump_json().encode(),
            }
            for event in events
        ],
    )
