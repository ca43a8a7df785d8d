"""`POST /v1/daily-runs` (role `admin` or `ops`): assignment's daily run, through the shared driver."""

from fastapi import APIRouter

from services.assignment.workflows import DAILY_RUN_STEPS
from shared.api import daily_run_router

router: APIRouter = daily_run_router(
    steps=DAILY_RUN_STEPS,
    description=(
        "Makes every time-driven assignment change due on or before `as_of`: a departure announced ahead "
        "(`departed_on` after the day it was reported) takes effect, and the person's customers are "
        "reassigned; then the representatives' duties: the year's holiday items generated ahead for every "
        "VIP (the first run dated in a year), and open items due before `as_of` become overdue (through the "
        "partial index on the due date). Due persons and items are found through an index; safe to run twice."
    ),
)
