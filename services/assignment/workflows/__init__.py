"""Assignment's use cases: carrying out a choice of representative (`representatives`: `fill`,
`revise`, `apply_choice`), departures (`departures`: on receipt, or on their date), and the daily
run's steps; the representative's duties (`duties`: work items, campaigns, completions).

The daily run makes every time-driven change due on or before its date: departures announced ahead
whose date has come, then the duties' steps (the year's holiday items generated ahead, open items
falling overdue). The shared driver walks the step chunk by chunk, one
transaction each; a departure applied leaves the pending set, so a date run twice finds nothing
the second time.
"""

from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.workflows import duties
from services.assignment.workflows.departures import hand_over_departures, take_departure
from services.assignment.workflows.representatives import apply_choice, fill, revise
from shared.daily_run import DailyRunStep

DAILY_RUN_STEPS: tuple[DailyRunStep[AssignmentUnitOfWork], ...] = (
    DailyRunStep(name="departures_taken_effect", apply_chunk=hand_over_departures),
    *duties.DUTY_STEPS,
)

__all__ = ["DAILY_RUN_STEPS", "apply_choice", "duties", "fill", "revise", "take_departure"]
