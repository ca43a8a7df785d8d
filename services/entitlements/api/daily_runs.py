"""`POST /v1/daily-runs` (role `admin` or `ops`): entitlements's daily run, through the shared driver."""

from fastapi import APIRouter

from services.entitlements.workflows.periods import DAILY_RUN_STEPS
from shared.api import daily_run_router

router: APIRouter = daily_run_router(
    steps=DAILY_RUN_STEPS,
    description="Rolls over every value-added period that ended before `as_of`; safe to run twice.",
)
