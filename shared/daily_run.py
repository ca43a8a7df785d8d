"""The daily run's driver, the same for every service: steps walked in chunks, each chunk one
transaction, a chunk that meets a passing failure (a deadlock with the consumer, an outage) rolled
back and run again.

A service names its steps (`workflows.DAILY_RUN_STEPS`): each finds what falls due on or before the
run's date through an index, in key order after a cursor, and applies one chunk of it. Whatever a
chunk changes moves it past the date, so a date run twice finds nothing the second time.

The run's date is limited (interfaces.md): today or tomorrow in the insurer's time zone, never
later, since a run dated ahead would move the business date forward for good. Test environments
lift the limit with `VIP_ALLOW_FUTURE_DAILY_RUN=true`. Every run is logged (`daily_run_log`: the
date, who asked, when, what each step changed).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy import insert

from shared.db import Transactions, UnitOfWork
from shared.failures import describe, is_transient
from shared.messaging_tables import DAILY_RUN_LOG
from shared.refusals import Invalid

log = logging.getLogger(__name__)

U = TypeVar("U", bound=UnitOfWork)
U_contra = TypeVar("U_contra", bound=UnitOfWork, contravariant=True)

ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class DailyRun:
    """One daily run: its business date, when it started, and who asked for it."""

    as_of: date
    started_at: datetime
    run_by: str


@dataclass(frozen=True, slots=True)
class ChunkDone:
    """What one chunk did: how many due items it looked at, how many it changed, the last key."""

    looked_at: int
    changed: int
    last_key: str = ""


class ApplyChunk(Protocol[U_contra]):
    async def __call__(self, uow: U_contra, *, run: DailyRun, after: str, limit: int) -> ChunkDone: ...


@dataclass(frozen=True, slots=True)
class DailyRunStep(Generic[U]):
    """One kind of time-driven change (e.g. "cooling-off ends"), applied chunk by chunk."""

    name: str
    apply_chunk: ApplyChunk[U]
    chunk_times: int = 1
    """This step's chunk in multiples of the run's (`VIP_DAILY_RUN_BATCH_SIZE`): a step done in a few
    set-based statements per chunk, whatever its size, pays per chunk more than per row, and goes
    faster in larger chunks (the group quarter-end: 10 x; docs/performance.md)."""


def latest_allowed_date(*, today: date) -> date:
    return today + timedelta(days=1)


def check_run_date(as_of: date, *, today: date, allow_future: bool) -> None:
    """Refuses a date after tomorrow (in the insurer's zone) unless test environments allow it."""
    latest = latest_allowed_date(today=today)
    if as_of > latest and not allow_future:
        raise Invalid(
            f"as_of {as_of.isoformat()} is too far ahead: the latest allowed date is {latest.isoformat()} "
            "(today or tomorrow in the insurer's time zone)",
            reason="daily_run_date_ahead",
        )


async def drive_daily_run(
    *,
    transactions: Transactions[U],
    run: DailyRun,
    steps: Sequence[DailyRunStep[U]],
    chunk_size: int,
    finish: Callable[[U, DailyRun, int], Awaitable[None]] | None = None,
) -> dict[str, int]:
    """Runs every step to its end in order; returns what each changed. `finish` records the run."""
    changed: dict[str, int] = {}
    for step in steps:
        changed[step.name] = 0
        after = ""
        limit = chunk_size * step.chunk_times
        while True:
            done = await _chunk_retrying(transactions, step=step, run=run, after=after, limit=limit)
            changed[step.name] += done.changed
            if done.looked_at < limit:
                break
            after = done.last_key
        log.info("daily run %s, %s: %d changed", run.as_of.isoformat(), step.name, changed[step.name])
    async with transactions.begin() as uow:
        if finish is not None:
            await finish(uow, run, sum(changed.values()))
        await uow.connection.execute(
            insert(DAILY_RUN_LOG).values(as_of=run.as_of, run_by=run.run_by, started_at=run.started_at, changed=changed)
        )
    return changed


async def _chunk_retrying(
    transactions: Transactions[U], *, step: DailyRunStep[U], run: DailyRun, after: str, limit: int
) -> ChunkDone:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with transactions.begin() as uow:
                return await step.apply_chunk(uow, run=run, after=after, limit=limit)
        except Exception as error:
            if not is_transient(error) or attempt == ATTEMPTS:
                raise
            log.warning("daily run chunk of %s failed (%s); attempt %d", step.name, describe(error), attempt + 1)
            await asyncio.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")
