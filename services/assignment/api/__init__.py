"""Assignment's HTTP API: the dependency its routers share, and every router of the service,
with the daily run (`POST /v1/daily-runs`: departures announced ahead whose date has come).
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from services.assignment.repositories import AssignmentUnitOfWork
from shared.api import daily_run_router, transactions_of
from shared.db import Transactions as _Transactions

Transactions = Annotated[_Transactions[AssignmentUnitOfWork], Depends(transactions_of)]


def _routers() -> tuple[APIRouter, ...]:
    from services.assignment.api import account_managers, customers, representatives
    from services.assignment.workflows import DAILY_RUN_STEPS

    daily_run = daily_run_router(
        steps=DAILY_RUN_STEPS,
        description=(
            "Makes every time-driven assignment change due on or before `as_of`: a departure announced ahead "
            "(`departed_on` after the day it was reported) takes effect, and the person's customers are "
            "reassigned. Due persons are found through an index; safe to run twice."
        ),
    )
    return (representatives.router, customers.router, account_managers.router, daily_run)


ROUTERS = _routers()
