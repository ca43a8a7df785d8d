"""Entitlements' HTTP API: the dependency every router takes, and every router of the service."""

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends

from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.api import transactions_of
from shared.db import Transactions as TransactionsOf
from shared.ruleset import Ruleset

Transactions = Annotated[TransactionsOf[EntitlementsUnitOfWork], Depends(transactions_of)]


def today(ruleset: Ruleset) -> date:
    """The insurer's local date: rules never read the clock, so the API reads it for them."""
    return datetime.now(ruleset.zone).date()


# The routers import `Transactions` and `today` from this package, so they are imported after them.
from services.entitlements.api import (  # noqa: E402
    customers,
    featured,
    group_clients,
    group_records,
    group_reports,
    redemptions,
    reports,
    vendors,
)
from services.entitlements.workflows.periods import DAILY_RUN_STEPS  # noqa: E402
from shared.api import daily_run_router  # noqa: E402

ROUTERS = (
    customers.router,
    redemptions.router,
    vendors.router,
    featured.router,
    reports.router,
    group_records.router,
    group_clients.router,
    group_reports.router,
    daily_run_router(
        steps=DAILY_RUN_STEPS,
        description="Rolls over every value-added period that ended before `as_of`; safe to run twice.",
    ),
)
