"""What scoring's routers depend on: its transactions."""

from typing import Annotated

from fastapi import Depends

from services.scoring.repositories import ScoringUnitOfWork
from shared.api import transactions_of
from shared.db import Transactions as TransactionsOf

Transactions = Annotated[TransactionsOf[ScoringUnitOfWork], Depends(transactions_of)]
"""The dependency every router takes: `async with transactions.begin() as uow` (or `.read()`)."""
