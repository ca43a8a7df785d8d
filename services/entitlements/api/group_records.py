"""Recording the group program's services (附件三-六, role `group_service`): green-channel and
daily-care executions, consultations and complaints (and their resolution), satisfaction surveys,
and a delivery of any other catalog service. Each counts against the level's yearly count."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.entitlements.api.dependencies import Transactions
from services.entitlements.domain.group_records import NewRecord, RecordKind, survey_average
from services.entitlements.workflows import group_records
from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.bounds import PathId
from shared.group_ruleset import GroupRuleset
from shared.problems import Problem

router: APIRouter = APIRouter(prefix="/v1/group-clients", tags=["group program"])

Recorder = Annotated[Principal, Depends(require_roles("group_service"))]

RECORDING: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    404: {"model": Problem, "description": "unknown client (reason unknown_group_client)"},
    409: {"model": Problem, "description": "the level's yearly count is used up (reason quota_reached)"},
    422: {"model": Problem, "description": "unknown_service, not_vip, not_offered, score_out_of_range, "
          "unknown_question, missing_question, resolved_before_received, or a malformed body"},
}
Text = Annotated[str, Field(min_length=1, max_length=500)]
Cost = Annotated[Decimal | None, Field(default=None, ge=0, le=Decimal("100000000"), decimal_places=2)]


def now() -> datetime:
    return datetime.now().astimezone()


def group_ruleset_of(request: Request) -> GroupRuleset:
    """Loaded once by `main.create_app`."""
    ruleset: GroupRuleset = request.app.state.group_ruleset
    return ruleset


CurrentGroupRuleset = Annotated[GroupRuleset, Depends(group_ruleset_of)]


class Resolved(BaseModel):
    record_id: int
    resolved_at: datetime
    verified: bool | None = Field(description="whether a complaint was verified; None for a consultation")


class Recorded(BaseModel):
    record_id: int
    service_code: str
    quota: int | None
    remaining: int | None


class GreenChannel(BaseModel):
    """附件三: a claims green-channel execution."""

    model_config = ConfigDict(extra="forbid")

    date: date
    claim_reference: Text
    insured_employee: Text
    expedited: Text
    days_taken: int = Field(ge=0, le=3650)
    cost: Cost = None


class DailyCare(BaseModel):
    """附件四: a daily-care execution (a holiday visit, a greeting)."""

    model_config = ConfigDict(extra="forbid")

    date: date
    occasion: Text
    channel: Literal["visit", "phone", "wechat", "sms", "email", "other"]
    reached: Text = Field(description="who was reached at the client")
    cost: Cost = None


class Consultation(BaseModel):
    """附件五: a phone consultation or a complaint; `resolved_at`/`outcome` may come later."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["consultation", "complaint"]
    received_at: AwareDatetime
    topic: Text
    handler: Text
    resolved_at: AwareDatetime | None = None
    outcome: str | None = Field(default=None, max_length=2000)
    verified: bool = Field(default=False, description="a complaint found justified")
    cost: Cost = None


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolved_at: AwareDatetime
    outcome: Text
    verified: bool = False


class Survey(BaseModel):
    """附件六: a satisfaction survey, a score 1-5 for every question of the ruleset's questionnaire."""

    model_config = ConfigDict(extra="forbid")

    date: date
    scores: dict[str, int]
    respondent: str | None = Field(default=None, max_length=200)
    cost: Cost = None


class Delivery(BaseModel):
    """A catalog service no form of its own describes (a service visit, a health lecture)."""

    model_config = ConfigDict(extra="forbid")

    date: date
    note: str | None = Field(default=None, max_length=2000)
    cost: Cost = None


async def _record(
    transactions: Any, *, client_id: PathId, kind: RecordKind, occurred_on: date, details: dict[str, Any],
    principal: Principal, cost: Decimal | None, code: str | None = None, **extra: Any,
) -> Recorded:
    new = NewRecord(
        client_id=client_id, kind=kind, service_code=code or "", occurred_on=occurred_on, cost=cost or Decimal(0),
        details=details, recorded_by=principal.user_id, **extra,
    )
    async with transactions.begin() as uow:
        done = await group_records.record(uow, record_kind_code=code, new=new, cost=cost, now=now())
    return Recorded(
        record_id=done.record_id, service_code=done.service_code, quota=done.quota, remaining=done.remaining
    )


@router.post("/{client_id}/green-channel", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_green_channel(
    client_id: PathId, body: GreenChannel, principal: Recorder, transactions: Transactions
) -> Recorded:
    details = body.model_dump(mode="json", exclude={"date", "cost"})
    return await _record(
        transactions, client_id=client_id, kind="green_channel", occurred_on=body.date, details=details,
        principal=principal, cost=body.cost,
    )


@router.post("/{client_id}/daily-care", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_daily_care(
    client_id: PathId, body: DailyCare, principal: Recorder, transactions: Transactions
) -> Recorded:
    details = body.model_dump(mode="json", exclude={"date", "cost"})
    return await _record(
        transactions, client_id=client_id, kind="daily_care", occurred_on=body.date, details=details,
        principal=principal, cost=body.cost,
    )


@router.post("/{client_id}/consultations", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_consultation(
    client_id: PathId, body: Consultation, principal: Recorder, transactions: Transactions, ruleset: CurrentGroupRuleset
) -> Recorded:
    """A consultation or complaint; one received more than the ruleset's response time ago and still
    unresolved is overdue."""
    details = body.model_dump(mode="json", include={"topic", "handler", "outcome"})
    return await _record(
        transactions, client_id=client_id, kind=body.kind,
        occurred_on=body.received_at.astimezone(ruleset.zone).date(),
        details=details, principal=principal, cost=body.cost, received_at=body.received_at,
        resolved_at=body.resolved_at, verified=body.verified if body.kind == "complaint" else None,
    )


@router.post("/{client_id}/consultations/{record_id}/resolution", responses=RECORDING)
async def resolve_consultation(
    client_id: PathId,
    record_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: Resolution,
    _: Recorder,
    transactions: Transactions,
) -> Resolved:
    async with transactions.begin() as uow:
        resolved = await group_records.resolve(
            uow, client_id=client_id, record_id=record_id, resolved_at=body.resolved_at, outcome=body.outcome,
            verified=body.verified, now=now(),
        )
    return Resolved(record_id=record_id, resolved_at=resolved["resolved_at"], verified=resolved["verified"])


@router.post("/{client_id}/surveys", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_survey(
    client_id: PathId, body: Survey, principal: Recorder, transactions: Transactions, ruleset: CurrentGroupRuleset
) -> Recorded:
    average = survey_average(body.scores, ruleset.questionnaire)
    details = {"scores": body.scores, "respondent": body.respondent, "average": str(average)}
    return await _record(
        transactions, client_id=client_id, kind="survey", occurred_on=body.date, details=details,
        principal=principal, cost=body.cost, average=average,
    )


@router.post("/{client_id}/services/{code}/deliveries", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_delivery(
    client_id: PathId,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    body: Delivery,
    principal: Recorder,
    transactions: Transactions,
) -> Recorded:
    return await _record(
        transactions, client_id=client_id, kind="service", occurred_on=body.date, details={"note": body.note},
        principal=principal, cost=body.cost, code=code,
    )
