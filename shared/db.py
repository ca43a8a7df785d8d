"""Database engine and the unit of work: one transaction, with the service's repositories on it.

Handlers never commit. `Transactions.begin()` opens one transaction, hands out a unit of work,
writes what it published to the outbox, and commits once; only then does it wake the relay, so
nothing is ever published that was not committed.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.events.group import GroupEvent
from shared.events.internal import InternalEvent
from shared.outbox import append_to_outbox
from shared.refusals import Refused
from shared.settings import ServiceSettings


def create_engine(*, settings: ServiceSettings) -> AsyncEngine:
    """An asyncpg engine that fails fast when PostgreSQL is away, instead of hanging requests."""
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_connect_timeout_s,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"timeout": settings.db_connect_timeout_s, "server_settings": {
            "application_name": f"vip-{settings.service_name}",
        }},
    )


Publishable = InternalEvent | GroupEvent
"""What a handler may publish: an individual program's event (keyed by customer) or a group
program's (keyed by client); both carry `topic`, `key`, `event_id`, `correlation_id`."""


Finisher = Callable[[], Awaitable[Sequence[Publishable]]]


class BatchFinishers:
    """Work asked for once per batch, however many handlers ask: run in the order first asked, each
    once (a finisher asking for another while running gets it run too)."""

    def __init__(self) -> None:
        self._pending: dict[Finisher, None] = {}

    def ask(self, finisher: Finisher) -> None:
        self._pending[finisher] = None

    async def run(self) -> list[Publishable]:
        published: list[Publishable] = []
        while self._pending:
            finisher = next(iter(self._pending))
            del self._pending[finisher]
            published.extend(await finisher())
        return published


class UnitOfWork:
    """One open transaction. A service subclasses it to hang its repositories on `connection`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self._published: list[Publishable] = []
        self._finishers = BatchFinishers()
        self.stale_events = 0

    def mark_stale(self) -> None:
        """The event being handled is older than the state already applied: recorded, no effect."""
        self.stale_events += 1

    async def prepare(self, events: Sequence[Any]) -> None:
        """Load in bulk, before the handlers run, what they will read for this batch of events.

        A service whose repositories keep what they load (an identity map for the transaction)
        turns a statement per event into a statement per batch; the default loads nothing.
        """

    async def flush(self) -> None:
        """Write in bulk what the repositories buffered; runs once, just before the commit."""

    def finish_with(self, finisher: Finisher) -> None:
        """Run `finisher` once in `finish_batch`, however many handlers of the batch ask for it.

        A handler asks for work it wants done once per batch rather than once per event (scoring
        re-scores a customer once however many of their policies the batch changed)."""
        self._finishers.ask(finisher)

    async def finish_batch(self) -> Sequence[Publishable]:
        """After every handler of a batch and before the outbox write: the finishers' events, in the
        order they were first asked for; the default has none."""
        return await self._finishers.run()

    def publish(self, events: Sequence[Publishable]) -> None:
        """Queue events for the outbox; they are written in this transaction, at its end."""
        self._published.extend(events)

    @property
    def published(self) -> tuple[Publishable, ...]:
        return tuple(self._published)


U = TypeVar("U", bound=UnitOfWork)


class Transactions(Generic[U]):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        make_unit_of_work: Callable[[AsyncConnection], U],
        after_publishing_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self._make_unit_of_work = make_unit_of_work
        self._after_publishing_commit = after_publishing_commit

    def wake_after_commit(self, callback: Callable[[], None]) -> None:
        self._after_publishing_commit = callback

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[U]:
        """Commit once on a clean exit, roll back on an exception; outbox rows go in the same commit.

        A `Refused` raised with `keep_effects=True` commits first and is raised after the commit.
        """
        kept: Refused | None = None
        async with self.engine.begin() as connection:
            unit_of_work = self._make_unit_of_work(connection)
            try:
                yield unit_of_work
            except Refused as refusal:
                if not refusal.keep_effects:
                    raise
                kept = refusal
            await unit_of_work.flush()
            published = unit_of_work.published
            if published:
                await append_to_outbox(connection, published)
        if published:
            self._after_publishing_commit()
        if kept is not None:
            raise kept

    @asynccontextmanager
    async def read(self) -> AsyncIterator[U]:
        """A read-only unit of work: its `publish` is ignored, nothing is written."""
        async with self.engine.connect() as connection:
            yield self._make_unit_of_work(connection)
