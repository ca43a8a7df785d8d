"""The group program's reports (rules.md section 9; roles `ops` and `group_service`): the quarterly
service summary of a client (附件二, JSON and CSV), the yearly investment estimate (附件七), the
quarter's assessment per branch and account manager (考核), the movements of levels per quarter,
and the program's overview (clients per level, overdue complaints) the dashboard reads."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from services.entitlements.api.dependencies import Transactions
from services.entitlements.domain.group_reports import Assessment, Summary
from services.entitlements.workflows import group_reports
from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.bounds import PathId
from shared.messaging_tables import DAILY_RUN_LOG
from shared.problems import Problem

router: APIRouter = APIRouter(prefix="/v1", tags=["group program"], responses=PROBLEMS)

Reader = Annotated[Principal, Depends(require_roles("ops", "group_service"))]
Year = Annotated[int, Query(ge=2000, le=2100)]
Quarter = Annotated[int, Query(ge=1, le=4)]
UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "unknown client (reason unknown_group_client)"}
}


def now() -> datetime:
    return datetime.now().astimezone()


async def business_date(uow: Any) -> date:
    """The insurer's date today, or the last daily run's when the platform has been run ahead of the
    clock (a test environment with `VIP_ALLOW_FUTURE_DAILY_RUN`): what the levels were decided for."""
    today = now().astimezone(uow.group_ruleset.zone).date()
    last_run = await uow.connection.scalar(select(func.max(DAILY_RUN_LOG.c.as_of)))
    return max(today, last_run) if isinstance(last_run, date) else today


class SummaryService(BaseModel):
    code: str
    name: str
    yearly: int | None = Field(description="the level's yearly count; None: unlimited")
    required_to_date: int | None
    delivered_in_quarter: int
    delivered_to_date: int


class SummaryComplaint(BaseModel):
    record_id: int
    kind: str
    received_at: datetime
    topic: str
    handler: str
    resolved_at: datetime | None
    outcome: str | None
    verified: bool
    resolved_in_time: bool
    overdue: bool


class SummarySurvey(BaseModel):
    surveys: int
    average: Decimal | None


class QuarterlySummary(BaseModel):
    """附件二 of one client and quarter."""

    client_id: str
    year: int
    quarter: int
    level: str | None
    services: list[SummaryService]
    complaints: list[SummaryComplaint]
    survey: SummarySurvey

    @classmethod
    def of(cls, summary: Summary) -> "QuarterlySummary":
        return cls(
            client_id=summary.client_id, year=summary.year, quarter=summary.quarter, level=summary.level,
            services=[SummaryService(**vars(line)) for line in summary.services],
            complaints=[SummaryComplaint(**vars(line)) for line in summary.complaints],
            survey=SummarySurvey(surveys=summary.surveys, average=summary.survey_average),
        )


@router.get("/group-clients/{client_id}/quarterly-summary", responses=UNKNOWN)
async def quarterly_summary(
    client_id: PathId, _: Reader, transactions: Transactions, year: Year, quarter: Quarter
) -> QuarterlySummary:
    """附件二: each service's yearly count, due by the quarter's end, delivered in the quarter and in
    the year to its end; the complaints received in the quarter and their handling; the surveys."""
    async with transactions.read() as uow:
        summary = await group_reports.summary_of(uow, client_id=client_id, year=year, quarter=quarter, now=now())
    return QuarterlySummary.of(summary)


@router.get(
    "/group-clients/{client_id}/quarterly-summary.csv",
    responses={**UNKNOWN, 200: {
        "model": QuarterlySummary, "content": {"text/csv": {}},
        "description": "the summary as CSV (`text/csv`), one row per service, complaint and survey result",
    }},
)
async def quarterly_summary_csv(
    client_id: PathId, _: Reader, transactions: Transactions, year: Year, quarter: Quarter
) -> Response:
    """The same summary as CSV, one row per service, complaint and survey result (`section` says which)."""
    async with transactions.read() as uow:
        summary = await group_reports.summary_of(uow, client_id=client_id, year=year, quarter=quarter, now=now())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "client_id", "year", "quarter", "level", "code", "name", "yearly",
                     "required_to_date", "delivered_in_quarter", "delivered_to_date",
                     "received_at", "topic", "handler", "resolved_at", "outcome", "verified", "resolved_in_time",
                     "overdue", "surveys", "survey_average"])
    head = [client_id, year, quarter, summary.level or ""]
    for line in summary.services:
        writer.writerow(["service", *head, line.code, line.name, _cell(line.yearly), _cell(line.required_to_date),
                         line.delivered_in_quarter, line.delivered_to_date, *[""] * 10])
    for complaint in summary.complaints:
        writer.writerow(["complaint", *head, "", "", "", "", "", "", complaint.received_at.isoformat(),
                         complaint.topic, complaint.handler, _cell(complaint.resolved_at), complaint.outcome or "",
                         complaint.verified, complaint.resolved_in_time, complaint.overdue, "", ""])
    writer.writerow(["survey", *head, *[""] * 14, summary.surveys, _cell(summary.survey_average)])  # 21 columns
    filename = f"group-summary-{client_id}-{year}-Q{quarter}.csv"
    return Response(
        out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


class InvestmentRow(BaseModel):
    level: str
    code: str
    name: str
    clients: int
    yearly_per_client: int | None
    unit_cost: Decimal
    estimate: Decimal | None
    delivered: int
    actual_cost: Decimal


class InvestmentReport(BaseModel):
    """附件七: `estimate` = clients x yearly count x unit cost (None: an unlimited service)."""

    year: int
    lines: list[InvestmentRow]
    estimate_total: Decimal
    actual_total: Decimal


@router.get("/group-program/investment")
async def investment_estimate(_: Reader, transactions: Transactions, year: Year) -> InvestmentReport:
    async with transactions.read() as uow:
        lines = await group_reports.investment_of(uow, year=year, today=await business_date(uow))
    return InvestmentReport(
        year=year, lines=[InvestmentRow(**vars(line)) for line in lines],
        estimate_total=sum((line.estimate or Decimal(0) for line in lines), Decimal("0.00")),
        actual_total=sum((line.actual_cost for line in lines), Decimal("0.00")),
    )


class AssessmentRow(BaseModel):
    key: str | None
    name: str | None = None
    vip_clients: int
    required: int
    delivered_on_time: int
    on_time_share: Decimal | None
    complaints: int
    complaints_in_time: int
    complaints_in_time_share: Decimal | None
    average_satisfaction: Decimal | None
    vip_year_before: int
    retained: int
    retention: Decimal | None

    @classmethod
    def of(cls, group: Assessment, *, name: str | None = None) -> "AssessmentRow":
        return cls(
            key=group.key, name=name, vip_clients=group.vip_clients, required=group.required,
            delivered_on_time=group.delivered_on_time, on_time_share=group.on_time_share,
            complaints=group.complaints, complaints_in_time=group.complaints_in_time,
            complaints_in_time_share=group.complaints_in_time_share, average_satisfaction=group.average_satisfaction,
            vip_year_before=group.vip_year_before, retained=group.retained, retention=group.retention,
        )


class AssessmentReport(BaseModel):
    year: int
    quarter: int
    branches: list[AssessmentRow]
    account_managers: list[AssessmentRow]


@router.get("/group-program/assessment")
async def assessment(_: Reader, transactions: Transactions, year: Year, quarter: Quarter) -> AssessmentReport:
    """考核: per branch and per account manager (`key` None: no branch / no manager)."""
    async with transactions.read() as uow:
        result = await group_reports.assessment_of(uow, year=year, quarter=quarter)
    return AssessmentReport(
        year=year, quarter=quarter, branches=[AssessmentRow.of(group) for group in result.branches],
        account_managers=[
            AssessmentRow.of(group, name=result.manager_names.get(group.key or "")) for group in result.account_managers
        ],
    )


class QuarterMovements(BaseModel):
    quarter: int
    became_vip: int
    up: int
    down: int
    left_vip: int


class Movements(BaseModel):
    year: int
    quarters: list[QuarterMovements]


class Overview(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "clients_per_level": {"level_1": 12, "level_2": 40, "level_3": 95, "regular": 1530},
        "overdue_complaints": 2,
    }]})

    clients_per_level: dict[str, int] = Field(description="level -> clients; `regular`: not VIP")
    overdue_complaints: int = Field(description="complaints unresolved past the response time")


@router.get("/group-program/movements")
async def movements(_: Reader, transactions: Transactions, year: Year) -> Movements:
    """Per quarter: clients becoming VIP, moving up or down a level, leaving VIP."""
    async with transactions.read() as uow:
        quarters = await group_reports.movements_of(uow, year=year)
    return Movements(year=year, quarters=[QuarterMovements(**quarter) for quarter in quarters])


@router.get("/group-program/overview")
async def overview(_: Reader, transactions: Transactions) -> Overview:
    """Clients per level (`regular`: not VIP) and complaints unresolved past the response time."""
    async with transactions.read() as uow:
        per_level = await uow.group_clients.per_level()
        overdue = await group_reports.overdue_complaints(uow, now=now())
    levels = {band.level: per_level.get(band.level, 0) for band in uow.group_ruleset.levels if band.level}
    return Overview(clients_per_level={**levels, "regular": per_level.get(None, 0)}, overdue_complaints=overdue)
