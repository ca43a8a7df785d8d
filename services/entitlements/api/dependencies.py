"""What entitlements's routers depend on: its transactions, and the insurer's local date."""

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends

from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.api import transactions_of
from shared.db import Transactions as TransactionsOf
from shared.ruleset import Ruleset

Transactions = Annotated[TransactionsOf[EntitlementsUnitOfWork], Depends(transactions_of)]
"""The dependency every router takes: `async with transactions.begin() as uow` (or `.read()`)."""


def today(ruleset: Ruleset) -> date:
    """The insurer's local date: rules never read the clock, so the API reads it for them."""
    return datetime.now(ruleset.zone).date()
