"""`POST /v1/daily-runs` (role `admin` or `ops`): tiering's daily run, through the shared driver."""

from fastapi import APIRouter

from services.tiering.workflows import DAILY_RUN_STEPS
from shared.api import daily_run_router

router: APIRouter = daily_run_router(
    steps=DAILY_RUN_STEPS,
    description=(
        "Makes every time-driven tier change due on or before `as_of` (honorary expiry; on a quarter end, the "
        "evaluation of every group client); safe to run twice. "
        "An honorary tier lapses in the customer's state (a decision with trigger `daily_run`) and its grant "
        "is closed as `expired` in the application's audit trail. Due customers and grants are found "
        "through an index, never by scanning every customer."
    ),
)
