"""`POST /v1/daily-runs` (role `admin` or `ops`): scoring's daily run, through the shared driver."""

from fastapi import APIRouter

from services.scoring.workflows import DAILY_RUN_STEPS, finish
from shared.api import daily_run_router

router: APIRouter = daily_run_router(
    steps=DAILY_RUN_STEPS,
    finish=finish,
    description=(
        "Policies whose cooling-off ends on or before `as_of` start to count: their holders are re-scored "
        "and published with trigger `daily_run`. Running a date again changes nothing."
    ),
)
