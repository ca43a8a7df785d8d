"""The daily run of entitlements: value-added periods that ended are rolled over (rules.md section 6).

Each due period is closed as `ended`; the period current on the run's date by rules.md's roll-over
(the tier held on the day after the end) is opened in its place, if any. A rolled-over customer has
no period ending before the date any more, so a date run twice changes nothing the second time.
"""

from services.entitlements.domain.periods import period_rolled_over
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.daily_run import ChunkDone, DailyRun, DailyRunStep


async def roll_over_due_periods(uow: EntitlementsUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """Rolls over the periods due of up to `limit` customers after `after`, in customer-id order.

    The customers are found without a lock, then locked (the lock a tier decision and a redemption
    take) and their open periods read again: one replaced meanwhile by a tier decision is left alone.
    """
    due = await uow.periods.due(as_of=run.as_of, after=after, limit=limit)
    if not due:
        return ChunkDone(looked_at=0, changed=0)
    await uow.customers.lock(due)
    await uow.periods.load(due)
    timelines = await uow.customers.timelines(due)
    changed = 0
    for customer_id in due:
        opened = await uow.periods.get(customer_id)
        if opened is None or opened.period.end >= run.as_of:
            continue
        successor = period_rolled_over(
            period=opened.period, timeline=timelines[customer_id], as_of=run.as_of, ruleset=uow.ruleset
        )
        uow.periods.save_closed(opened.period_id, state="ended")
        if successor is not None:
            uow.periods.save_opened(customer_id, successor, opened_by="roll_over")
        changed += 1
    return ChunkDone(looked_at=len(due), changed=changed, last_key=due[-1])


DAILY_RUN_STEPS: tuple[DailyRunStep[EntitlementsUnitOfWork], ...] = (
    DailyRunStep(name="value_added_period_roll_over", apply_chunk=roll_over_due_periods),
)
