"""Scoring's HTTP API: the dependency every router uses, and every router of the service.

The feature routers are imported after `Transactions`, which they depend on.
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from services.scoring.repositories import ScoringUnitOfWork
from shared.api import transactions_of
from shared.db import Transactions as TransactionsOf

Transactions = Annotated[TransactionsOf[ScoringUnitOfWork], Depends(transactions_of)]

from services.scoring.api import customers, daily_runs, exports  # noqa: E402

ROUTERS: tuple[APIRouter, ...] = (customers.router, daily_runs.router, exports.router)
