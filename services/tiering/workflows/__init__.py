"""Tiering's use cases: the honorary commands (`honorary`), what handlers and commands share to change
a customer's tier (`customers`), and the daily run's steps.

The daily run makes every time-driven change due on or before its date; today that is honorary
expiry only. Its two steps are walked in order by the shared driver, chunk by chunk, one
transaction each: the customers' honorary tiers lapse (decisions published with trigger
`daily_run`), then the grants are closed as `expired` in the applications' audit trail. Whatever a
chunk changes moves it past the date, so a date run twice finds nothing the second time.
"""

from services.tiering.repositories import TieringUnitOfWork
from services.tiering.workflows.customers import lapse_honorary_tiers
from services.tiering.workflows.group_levels import quarter_end_evaluated
from services.tiering.workflows.honorary import close_expired_grants
from shared.daily_run import DailyRunStep

DAILY_RUN_STEPS: tuple[DailyRunStep[TieringUnitOfWork], ...] = (
    DailyRunStep(name="honorary_tiers_lapsed", apply_chunk=lapse_honorary_tiers),
    DailyRunStep(name="honorary_grants_expired", apply_chunk=close_expired_grants),
    DailyRunStep(name="group_quarter_end_evaluated", apply_chunk=quarter_end_evaluated, chunk_times=10),
)
