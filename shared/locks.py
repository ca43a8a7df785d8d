"""Per-key serialisation inside a transaction: one advisory-lock helper for every service.

Every path that changes an aggregate (a customer, an application, a period) first takes the
aggregate's transaction-scoped advisory lock, then reads it. Locks are taken in key order in one
statement (a sorted subquery feeding one aggregate), so two transactions locking overlapping sets
cannot deadlock on them, and a key needs no row to be locked: a customer never seen is locked the
same way as one already stored. The lock ends with the transaction; nothing is ever unlocked by hand.
"""

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_LOCK_KEYS = text(
    "SELECT count(pg_advisory_xact_lock(h)) FROM "
    "(SELECT hashtextextended(CAST(:scope AS text) || ':' || k, 0) AS h "
    "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"
)


async def lock_keys(connection: AsyncConnection, *, scope: str, keys: Iterable[str]) -> None:
    """Hold the advisory locks of `keys` within `scope` (e.g. "tiering-customer") until the transaction ends.

    `scope` keeps two kinds of aggregate apart when their keys look alike; it is part of the hash,
    never of the SQL text, so every call shares one prepared statement.
    """
    ordered = sorted(set(keys))
    if ordered:
        await connection.execute(_LOCK_KEYS, {"scope": scope, "keys": ordered})
