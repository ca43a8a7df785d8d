"""Claiming event ids: the inbox makes a redelivered event a no-op."""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# One statement text whatever the batch size (arrays, not a VALUES row per event), so PostgreSQL
# and the driver prepare it once.
_CLAIM = text(
    "INSERT INTO inbox (topic, event_id) SELECT :topic, unnest(CAST(:event_ids AS varchar[])) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


async def claim_new_event_ids(
    connection: AsyncConnection, *, topic: str, event_ids: Sequence[str]
) -> set[str]:
    """The ids of this batch seen for the first time; a repeat inside the batch counts once.

    `ON CONFLICT DO NOTHING` does not let one statement insert the same key twice, so the batch is
    de-duplicated before the insert.
    """
    unique_ids = list(dict.fromkeys(event_ids))
    if not unique_ids:
        return set()
    result = await connection.execute(_CLAIM, {"topic": topic, "event_ids": unique_ids})
    return set(result.scalars().all())
