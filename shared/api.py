"""What every service's routers depend on: its transactions, its ruleset, and the daily-run endpoint.

A service names its own dependency once, in `api/__init__.py`:

    Transactions = Annotated[shared.db.Transactions[ScoringUnitOfWork], Depends(transactions_of)]
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, require_roles
from shared.bounds import IsoDate
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


_PROBLEM_DESCRIPTIONS = {
    400: "the body is not JSON", 401: "no valid bearer token (`WWW-Authenticate: Bearer`)",
    403: "the token lacks the role, or acts for another branch", 404: "no such resource",
    409: "the resource's state forbids it", 413: "the body is over 64 KiB", 422: "a value is invalid",
    429: "too many requests for this token (`Retry-After`)", 503: "the database is unavailable; try again",
}


def problems(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an operation: each status answers a `Problem` as `application/problem+json`.

    `problems(404, 409)`; a status may carry its own sentence: `problems(409, s409="already decided")`.
    The media type is set when the document is built (`shared.problems.problem_openapi`).
    """
    return {
        status: {
            "model": Problem,
            "description": described.get(f"s{status}", _PROBLEM_DESCRIPTIONS.get(status, "an error")),
        }
        for status in statuses
    }


PROBLEMS = problems(401, 403, 422, 429)
"""What every authenticated operation may answer, whatever it does."""


class DailyRunRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: IsoDate = Field(
        description="the business date (YYYY-MM-DD); today or tomorrow in the insurer's time zone"
    )


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

    @router.post("/daily-runs", responses={**PROBLEMS, **problems(400, 413)}, description=description)
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
