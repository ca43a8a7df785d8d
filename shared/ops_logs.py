"""The service's own logs over HTTP, for operators (role `ops` or `admin`), a page at a time, newest first.

- `GET /v1/ops/daily-runs`: who ran each daily run, for which date, when, and what each step changed
  (`daily_run_log`);
- `GET /v1/ops/audit`: who read or changed what (`audit_log`, written by `shared.audit`), narrowed to
  one customer (`subject_id`) or one user (`user_id`, the token's digest, never the token).

Pages are keyed by id (`before_id`, from `next_before_id`), so a page costs its own rows through the
primary key whatever the table holds; `limit` is bounded in the schema.
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select, select

from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.messaging_tables import AUDIT_LOG, DAILY_RUN_LOG

router = APIRouter(prefix="/v1/ops", tags=["operations"], responses=PROBLEMS)

OpsOrAdmin = Annotated[Principal, Depends(require_roles("ops", "admin"))]
BeforeId = Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only rows older than this id")]
PageSize = Annotated[int, Query(ge=1, le=500)]


class DailyRunEntry(BaseModel):
    id: int
    as_of: date
    run_by: str
    started_at: datetime
    finished_at: datetime
    changed: dict[str, int]


class DailyRunLog(BaseModel):
    runs: list[DailyRunEntry]
    next_before_id: int | None


class AuditEntry(BaseModel):
    id: int
    at: datetime
    user_id: str
    method: str
    route: str
    subject_id: str | None
    status: int


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before_id: int | None


async def _page(request: Request, statement: Select[tuple[object, ...]], *, before_id: int | None,
                limit: int) -> list[dict[str, object]]:
    id_column = statement.selected_columns.id
    statement = statement.order_by(id_column.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(id_column < before_id)
    async with request.app.state.runtime.transactions.engine.connect() as connection:
        return [row._asdict() for row in (await connection.execute(statement)).all()]


def _next(ids: list[int], *, limit: int) -> int | None:
    return ids[-1] if len(ids) == limit else None


@router.get("/daily-runs")
async def daily_run_log(
    request: Request, _: OpsOrAdmin, before_id: BeforeId = None, limit: PageSize = 50
) -> DailyRunLog:
    """The newest daily runs first, with who ran each (`run_by`, the token's user id)."""
    rows = await _page(request, select(*DAILY_RUN_LOG.c), before_id=before_id, limit=limit)
    runs = [DailyRunEntry.model_validate(row) for row in rows]
    return DailyRunLog(runs=runs, next_before_id=_next([run.id for run in runs], limit=limit))


@router.get("/audit")
async def audit_log(
    request: Request,
    _: OpsOrAdmin,
    subject_id: Annotated[str | None, Query(min_length=1, max_length=64, description="one customer")] = None,
    user_id: Annotated[str | None, Query(min_length=1, max_length=64, description="one user")] = None,
    before_id: BeforeId = None,
    limit: PageSize = 100,
) -> AuditPage:
    """The newest audit rows first; rows are written in bulk every `VIP_AUDIT_FLUSH_S` seconds."""
    statement = select(*AUDIT_LOG.c)
    if subject_id is not None:
        statement = statement.where(AUDIT_LOG.c.subject_id == subject_id)
    if user_id is not None:
        statement = statement.where(AUDIT_LOG.c.user_id == user_id)
    rows = await _page(request, statement, before_id=before_id, limit=limit)
    entries = [AuditEntry.model_validate(row) for row in rows]
    return AuditPage(entries=entries, next_before_id=_next([entry.id for entry in entries], limit=limit))
