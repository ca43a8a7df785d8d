"""Assignment's HTTP API: the dependency its routers share, and every router of the service.

Assignment has no daily run (departures act on receipt), so no `POST /v1/daily-runs`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from services.assignment.repositories import AssignmentUnitOfWork
from shared.api import transactions_of
from shared.db import Transactions as _Transactions

Transactions = Annotated[_Transactions[AssignmentUnitOfWork], Depends(transactions_of)]


def _routers() -> tuple[APIRouter, ...]:
    from services.assignment.api import account_managers, customers, representatives

    return (representatives.router, customers.router, account_managers.router)


ROUTERS = _routers()
