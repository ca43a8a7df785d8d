"""The call-center look-up's fast path: one statement, one round trip, JSON built by PostgreSQL.

`GET /v1/customers/{id}` is the call center's most frequent request (issue 8: at least 0.8 of a
raw FastAPI + asyncpg primary-key read). Going through the SQLAlchemy engine costs four round trips
(pool pre-ping, BEGIN, SELECT, ROLLBACK) and an ORM-free but still heavy row and response pipeline;
this path keeps its own small asyncpg pool and sends a single explicit SELECT, outside any
transaction, that returns the response body as text: the API answers it as is.

The body is the contract of interfaces.md, the same as `api.customers.customer_view` of a `Customer`
(`points` and `pending_points` are numeric(18,2), so their text has exactly two decimals; dates are
ISO in JSON). `pending_points`/`pending_from` are additive fields: columns of the same row, no extra query.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from shared.settings import ServiceSettings

CUSTOMER_VIEW = """
SELECT json_build_object(
    'customer_id', customer_id,
    'tier', tier,
    'honorary', honorary_tier IS NOT NULL,
    'standard', standard,
    'points', points::text,
    'vip_since', vip_since,
    'serving_channel', serving_channel,
    'pending_points', pending_points::text,
    'pending_from', pending_from,
    'representative', CASE WHEN representative IS NULL OR jsonb_typeof(representative) = 'null' THEN NULL
        ELSE json_build_object(
            'agent_id', representative->>'agent_id',
            'name', representative->>'name',
            'channel', representative->>'channel'
        ) END
)::text
FROM customers WHERE customer_id = $1
"""


# asyncpg's own errors for a database that is away; the shared failure rules (`shared.failures`) know
# SQLAlchemy's wrapped ones, so these are re-raised as ConnectionError, which they count as transient.
_UNAVAILABLE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://...`) as asyncpg takes it; a `?host=` socket kept."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reset(connection: Any) -> None:
    """What a connection needs back in the pool: no session state is ever set on it, and it is never
    left in a transaction; asyncpg's default reset (a round trip: `RESET ALL; UNLISTEN *; ...`) on
    every release would cost as much as the look-up itself."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class CustomerLookup:
    """A pool of at most `db_pool_size` connections, opened with the app and closed with it.

    Connections are made on first use (none at start), with the service's connect timeout; a
    request waits at most that long for a free one. A dropped connection raises an error that the
    HTTP app's middleware answers with 503, like every other request while PostgreSQL is away
    (OSError and timeouts as they are, asyncpg's connection errors as ConnectionError).
    """

    def __init__(self, *, settings: ServiceSettings) -> None:
        self._dsn = asyncpg_dsn(settings.database_url)
        self._size = settings.db_pool_size
        self._timeout = settings.db_connect_timeout_s
        self._application_name = f"vip-{settings.service_name}-lookup"
        self._pool: Any = None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=0,
            max_size=self._size,
            timeout=self._timeout,
            reset=_reset,
            server_settings={"application_name": self._application_name},
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def customer_view(self, customer_id: str) -> bytes | None:
        """The look-up's response body, or None for a customer the platform has never seen."""
        if self._pool is None:
            raise RuntimeError("the customer look-up is not open (the app's lifespan opens it)")
        try:
            async with self._pool.acquire(timeout=self._timeout) as connection:
                body = await connection.fetchval(CUSTOMER_VIEW, customer_id)
        except _UNAVAILABLE as error:
            raise ConnectionError(f"customer look-up: {type(error).__name__}: {error}") from error
        return None if body is None else str(body).encode()

    def around(
        self, lifespan: Callable[[Any], AbstractAsyncContextManager[Any]]
    ) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
        """`lifespan` with the pool opened after it starts and closed before it ends."""

        @asynccontextmanager
        async def wrapped(app: Any) -> AsyncIterator[Any]:
            async with lifespan(app) as state:
                await self.open()
                try:
                    yield state
                finally:
                    await self.close()

        return wrapped
