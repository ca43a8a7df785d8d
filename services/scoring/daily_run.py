"""The daily run for a date: policies whose cooling-off ends on or before it start to count.

Due customers are found through the index on `customers.next_pending_date` (never a scan of every
customer), walked in customer-id order in chunks, each chunk one transaction that re-scores and
publishes `CustomerScored` with trigger `daily_run`. A re-score moves `next_pending_date` past the
date, so running the same date again finds nobody and changes nothing.
"""

import asyncio
import logging
from datetime import date, datetime

from services.scoring.handlers import DAILY_RUN_TRIGGER, Cause, rescore
from services.scoring.repository import ScoringUnitOfWork
from shared.db import Transactions
from shared.events.ids import derive_event_id
from shared.failures import describe, is_transient

log = logging.getLogger(__name__)

CHUNK_SIZE = 2000
_ATTEMPTS = 5


async def run_daily(
    transactions: Transactions[ScoringUnitOfWork], *, as_of: date, started_at: datetime
) -> int:
    """Re-score every customer due on or before `as_of`; returns how many were re-scored."""
    cause = Cause(
        cause_id=f"daily_run/{as_of.isoformat()}",
        correlation_id=derive_event_id(DAILY_RUN_TRIGGER, as_of.isoformat()),
        trigger=DAILY_RUN_TRIGGER,
        occurred_at=started_at,
    )
    changed = 0
    after = ""
    while True:
        done = await _retrying(transactions, as_of=as_of, after=after, cause=cause)
        if not done:
            break
        changed += len(done)
        after = done[-1]
    async with transactions.begin() as uow:
        await uow.daily_runs.record(as_of=as_of, changed=changed)
    log.info("daily run %s: %d customers re-scored", as_of.isoformat(), changed)
    return changed


async def _retrying(
    transactions: Transactions[ScoringUnitOfWork], *, as_of: date, after: str, cause: Cause
) -> list[str]:
    """One chunk; a deadlock with the consumer (or a passing outage) rolls it back and runs it again."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return await _chunk(transactions, as_of=as_of, after=after, cause=cause)
        except Exception as error:
            if not is_transient(error) or attempt == _ATTEMPTS:
                raise
            log.warning("daily run chunk failed (%s); attempt %d again", describe(error), attempt + 1)
            await asyncio.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


async def _chunk(
    transactions: Transactions[ScoringUnitOfWork], *, as_of: date, after: str, cause: Cause
) -> list[str]:
    async with transactions.begin() as uow:
        due = await uow.customers.due(as_of=as_of, after=after, limit=CHUNK_SIZE)
        if due:
            await uow.customers.lock(due)
            await uow.policies.preload_holders(due)
            await uow.customers.preload(due)
            uow.publish([await rescore(uow, customer_id, as_of=as_of, cause=cause) for customer_id in due])
    return due
