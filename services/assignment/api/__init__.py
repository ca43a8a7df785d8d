"""Assignment's HTTP API: the dependency its routers share, and every router of the service,
with the daily run (`POST /v1/daily-runs`: departures announced ahead whose date has come, then
the representatives' duties: the year's holiday items ahead, items falling overdue).
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from services.assignment.repositories import AssignmentUnitOfWork
from shared.api import daily_run_router, transactions_of
from shared.db import Transactions as _Transactions

Transactions = Annotated[_Transactions[AssignmentUnitOfWork], Depends(transactions_of)]


def _routers() -> tuple[APIRouter, ...]:
    from services.assignment.api import account_managers, campaigns, customers, duties, representatives
    from services.assignment.workflows import DAILY_RUN_STEPS

    daily_run = daily_run_router(
        steps=DAILY_RUN_STEPS,
        description=(
            "Makes every time-driven assignment change due on or before `as_of`: a departure announced ahead "
            "(`departed_on` after the day it was reported) takes effect, and the person's customers are "
            "reassigned; then the representatives' duties: the year's holiday items generated ahead for every "
            "VIP (the first run dated in a year), and open items due before `as_of` become overdue (through the "
            "partial index on the due date). Due persons and items are found through an index; safe to run twice."
        ),
    )
    return (
        representatives.router, customers.router, account_managers.router, duties.router, campaigns.router, daily_run
    )


ROUTERS = _routers()
