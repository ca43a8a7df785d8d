"""Writing to the outbox inside the caller's transaction."""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.group import GroupEvent
from shared.events.internal import InternalEvent

# Arrays with ORDINALITY keep the rows in the order given, so `id` order is write order.
_APPEND = text(
    "INSERT INTO outbox (topic, key, event_id, event_type, correlation_id, payload) "
    "SELECT topic, key, event_id, event_type, correlation_id, payload FROM unnest("
    "CAST(:topics AS varchar[]), CAST(:keys AS varchar[]), CAST(:event_ids AS varchar[]), "
    "CAST(:event_types AS varchar[]), CAST(:correlation_ids AS varchar[]), CAST(:payloads AS bytea[])"
    ") WITH ORDINALITY AS rows (topic, key, event_id, event_type, correlation_id, payload, position) "
    "ORDER BY position"
)


async def append_to_outbox(connection: AsyncConnection, events: Sequence[InternalEvent | GroupEvent]) -> None:
    """Rows are published in `id` order, which keeps one customer's events in the order written."""
    if not events:
        return
    await connection.execute(
        _APPEND,
        {
            "topics": [event.topic for event in events],
            "keys": [event.key for event in events],
            "event_ids": [event.event_id for event in events],
            "event_types": [getattr(event, "event_type", type(event).__name__) for event in events],
            "correlation_ids": [event.correlation_id for event in events],
            "payloads": [event.model_dump_json().encode() for event in events],
        },
    )
