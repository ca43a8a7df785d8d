"""Tiering's HTTP API: one router per feature, and the daily run through the shared driver.

`Transactions` is defined before the feature modules are imported: they depend on it.
"""

from typing import Annotated

from fastapi import Depends

from services.tiering.repositories import TieringUnitOfWork
from shared.api import daily_run_router, transactions_of
from shared.db import Transactions as TransactionsOf

Transactions = Annotated[TransactionsOf[TieringUnitOfWork], Depends(transactions_of)]

from services.tiering.api import customers, exports, honorary  # noqa: E402
from services.tiering.workflows import DAILY_RUN_STEPS  # noqa: E402

ROUTERS = (
    customers.router,
    honorary.router,
    exports.router,
    daily_run_router(
        steps=DAILY_RUN_STEPS,
        description=(
            "Makes every time-driven tier change due on or before `as_of` (honorary expiry); safe to run twice. "
            "An honorary tier lapses in the customer's state (a decision with trigger `daily_run`) and its grant "
            "is closed as `expired` in the application's audit trail. Due customers and grants are found "
            "through an index, never by scanning every customer."
        ),
    ),
)
