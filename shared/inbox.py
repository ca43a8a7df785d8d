"""Claiming event ids: the inbox makes a redelivered event a no-op."""

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.messaging_tables import INBOX


async def claim_new_event_ids(
    connection: AsyncConnection, *, topic: str, event_ids: Sequence[str]
) -> set[str]:
    """The ids of this batch seen for the first time; a repeat inside the batch counts once.

    `ON CONFLICT DO NOTHING RETURNING` alone would let two copies of one id in the same statement
    through, so the batch is de-duplicated before the insert.
    """
    unique_ids = list(dict.fromkeys(event_ids))
    if not unique_ids:
        return set()
    statement = (
        insert(INBOX)
        .values([{"topic": topic, "event_id": event_id} for event_id in unique_ids])
        .on_conflict_do_nothing()
        .returning(INBOX.c.event_id)
    )
    result = await connection.execute(statement)
    return set(result.scalars().all())
