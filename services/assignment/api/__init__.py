"""Assignment's HTTP API: the dependency its routers share, and every router of the service.

`POST /v1/daily-runs` runs the duties' steps (`workflows.DAILY_RUN_STEPS`).
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from services.assignment.repositories import AssignmentUnitOfWork
from shared.api import transactions_of
from shared.db import Transactions as _Transactions

Transactions = Annotated[_Transactions[AssignmentUnitOfWork], Depends(transactions_of)]


def _routers() -> tuple[APIRouter, ...]:
    from services.assignment.api import campaigns, customers, duties, representatives
    from services.assignment.workflows import DAILY_RUN_STEPS
    from shared.api import daily_run_router

    return (
        representatives.router,
        customers.router,
        duties.router,
        campaigns.router,
        daily_run_router(
            steps=DAILY_RUN_STEPS,
            description=(
                "The representative's duties on `as_of`: the year's holiday items generated ahead for every VIP "
                "(the first run dated in a year), then open items due before `as_of` become overdue (through "
                "the partial index on the due date). Safe to run twice."
            ),
        ),
    )


ROUTERS = _routers()
