"""Claiming event ids: the inbox makes a redelivered event a no-op."""

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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


_PURGE_CHUNK = text(
    "DELETE FROM inbox WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM inbox WHERE processed_at < now() - make_interval(secs => :age_s) LIMIT :chunk))"
)


async def purge_inbox(engine: AsyncEngine, *, older_than: timedelta, chunk: int = 10_000) -> int:
    """Deletes inbox rows older than `older_than`, a chunk per transaction; returns how many went.

    Safe because a row only has to outlive every redelivery of its event: once the inbound topics'
    retention (plus a margin) has passed, the broker can no longer deliver that event again. Walks
    the `inbox_processed_at` index; short transactions keep the consumer's batches flowing.
    """
    purged = 0
    while True:
        async with engine.begin() as connection:
            result = await connection.execute(
                _PURGE_CHUNK, {"age_s": older_than.total_seconds(), "chunk": chunk}
            )
        deleted = result.rowcount or 0
        purged += deleted
        if deleted < chunk:
            return purged
