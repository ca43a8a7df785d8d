"""What every service's routers depend on: its transactions, its ruleset, and the daily-run endpoint.

A service names its own dependency once, in `api/__init__.py`:

    Transactions = Annotated[shared.db.Transactions[ScoringUnitOfWork], Depends(transactions_of)]
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.auth import Principal, require_roles
from shared.daily_run import DailyRun, DailyRunStep, check_run_date, drive_daily_run
from shared.db import Transactions, U
from shared.problems import Problem
from shared.ruleset import Ruleset

CallCenter = Annotated[Principal, Depends(require_roles("call_center"))]
CallCenterOrOps = Annotated[Principal, Depends(require_roles("call_center", "ops"))]
Ops = Annotated[Principal, Depends(require_roles("ops"))]
AdminOrOps = Annotated[Principal, Depends(require_roles("admin", "ops"))]


def transactions_of(request: Request) -> Transactions[Any]:
    transactions: Transactions[Any] = request.app.state.runtime.transactions
    return transactions


def ruleset_of(request: Request) -> Ruleset:
    """The ruleset `main.create_app` loaded once at start."""
    ruleset: Ruleset = request.app.state.ruleset
    return ruleset


CurrentRuleset = Annotated[Ruleset, Depends(ruleset_of)]

PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in {
        401: "no valid bearer token", 403: "the token lacks the role", 422: "a value is invalid",
    }.items()
}


class DailyRunRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: date = Field(description="the business date (YYYY-MM-DD); today or tomorrow in the insurer's time zone")

    @field_validator("as_of", mode="before")
    @classmethod
    def _a_date_string(cls, value: object) -> object:
        """A number is not a date (pydantic would read 0 as 1970-01-01)."""
        if not isinstance(value, str | date):
            raise ValueError("expected a date as YYYY-MM-DD")
        return value


class DailyRunResult(BaseModel):
    as_of: date
    changed: int = Field(description="customers (or items) the run changed in this service, all steps")
    steps: dict[str, int] = Field(description="what each step changed")


def daily_run_router(
    *,
    steps: Sequence[DailyRunStep[U]],
    finish: Callable[[U, DailyRun, int], Awaitable[None]] | None = None,
    description: str,
) -> APIRouter:
    """`POST /v1/daily-runs` (role `admin` or `ops`): the service's steps for a date, through the shared driver."""
    router = APIRouter(prefix="/v1", tags=["operations"])

    @router.post("/daily-runs", responses=PROBLEMS, description=description)
    async def daily_run(
        body: DailyRunRequest, request: Request, principal: AdminOrOps, ruleset: CurrentRuleset
    ) -> DailyRunResult:
        now = datetime.now(ruleset.zone)
        check_run_date(
            body.as_of, today=now.date(), allow_future=request.app.state.runtime.settings.allow_future_daily_run
        )
        changed = await drive_daily_run(
            transactions=transactions_of(request),
            run=DailyRun(as_of=body.as_of, started_at=now, run_by=principal.user_id),
            steps=steps,
            chunk_size=request.app.state.runtime.settings.daily_run_batch_size,
            finish=finish,
        )
        return DailyRunResult(as_of=body.as_of, changed=sum(changed.values()), steps=changed)

    return router
