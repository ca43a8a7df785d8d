"""The group program in entitlements (rules.md section 9): the look-up of a client (interfaces.md,
roles `call_center`, `ops`, `group_service`), and its service records (附件三-六): recorded by
`group_service`, listed (paginated, newest first) for `ops` and `group_service`."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.entitlements.api import Transactions
from services.entitlements.domain.group_records import NewRecord, RecordKind, is_overdue, survey_average
from services.entitlements.workflows import group_records
from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.group_ruleset import GroupRuleset
from shared.problems import Problem

router: APIRouter = APIRouter(prefix="/v1/group-clients", tags=["group program"])

LookUp = Annotated[Principal, Depends(require_roles("call_center", "ops", "group_service"))]
Reader = Annotated[Principal, Depends(require_roles("ops", "group_service"))]
Recorder = Annotated[Principal, Depends(require_roles("group_service"))]

RECORDING: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    404: {"model": Problem, "description": "unknown client (reason unknown_group_client)"},
    409: {"model": Problem, "description": "the level's yearly count is used up (reason quota_reached)"},
    422: {"model": Problem, "description": "unknown_service, not_vip, not_offered, score_out_of_range, "
          "unknown_question, missing_question, resolved_before_received, or a malformed body"},
}


def group_ruleset_of(request: Request) -> GroupRuleset:
    """Loaded once by `main.create_app`."""
    ruleset: GroupRuleset = request.app.state.group_ruleset
    return ruleset


CurrentGroupRuleset = Annotated[GroupRuleset, Depends(group_ruleset_of)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Cost = Annotated[Decimal | None, Field(default=None, ge=0, le=Decimal("100000000"), decimal_places=2)]


def now() -> datetime:
    return datetime.now().astimezone()


class Manager(BaseModel):
    agent_id: str
    name: str


class Coefficients(BaseModel):
    scale: Decimal | None
    loyalty: Decimal | None
    profit: Decimal | None


class Service(BaseModel):
    code: str
    name: str
    quota: int | None
    used: int
    remaining: int | None


class GroupClientView(BaseModel):
    """interfaces.md: the client's level (None: a regular client), score, coefficients, account
    manager, and this year's services with their counts."""

    client_id: str
    level: str | None
    score: Decimal
    coefficients: Coefficients
    evaluated_on: date | None
    account_manager: Manager | None
    services: list[Service]


@router.get("/{client_id}", responses={**PROBLEMS, 404: {"model": Problem, "description": "never seen"}})
async def group_client(client_id: str, _: LookUp, transactions: Transactions) -> GroupClientView:
    async with transactions.read() as uow:
        client = await group_records.known_client(uow, client_id)
        year = now().astimezone(uow.group_ruleset.zone).year
        services = await group_records.services_of(uow, client, year=year)
    manager = client.manager
    return GroupClientView(
        client_id=client.client_id, level=client.level, score=client.score,
        coefficients=Coefficients(scale=client.scale, loyalty=client.loyalty, profit=client.profit),
        evaluated_on=client.evaluated_on,
        account_manager=Manager(agent_id=manager.agent_id, name=manager.name) if manager else None,
        services=[
            Service(code=each.code, name=each.name, quota=each.quota, used=each.used, remaining=each.remaining)
            for each in services
        ],
    )


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
    transactions: Any, *, client_id: str, kind: RecordKind, occurred_on: date, details: dict[str, Any],
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
    client_id: str, body: GreenChannel, principal: Recorder, transactions: Transactions
) -> Recorded:
    details = body.model_dump(mode="json", exclude={"date", "cost"})
    return await _record(
        transactions, client_id=client_id, kind="green_channel", occurred_on=body.date, details=details,
        principal=principal, cost=body.cost,
    )


@router.post("/{client_id}/daily-care", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_daily_care(
    client_id: str, body: DailyCare, principal: Recorder, transactions: Transactions
) -> Recorded:
    details = body.model_dump(mode="json", exclude={"date", "cost"})
    return await _record(
        transactions, client_id=client_id, kind="daily_care", occurred_on=body.date, details=details,
        principal=principal, cost=body.cost,
    )


@router.post("/{client_id}/consultations", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_consultation(
    client_id: str, body: Consultation, principal: Recorder, transactions: Transactions, ruleset: CurrentGroupRuleset
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
    client_id: str, record_id: int, body: Resolution, _: Recorder, transactions: Transactions
) -> dict[str, Any]:
    async with transactions.begin() as uow:
        resolved = await group_records.resolve(
            uow, client_id=client_id, record_id=record_id, resolved_at=body.resolved_at, outcome=body.outcome,
            verified=body.verified, now=now(),
        )
    return {"record_id": record_id, "resolved_at": resolved["resolved_at"], "verified": resolved["verified"]}


@router.post("/{client_id}/surveys", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_survey(
    client_id: str, body: Survey, principal: Recorder, transactions: Transactions, ruleset: CurrentGroupRuleset
) -> Recorded:
    average = survey_average(body.scores, ruleset.questionnaire)
    details = {"scores": body.scores, "respondent": body.respondent, "average": str(average)}
    return await _record(
        transactions, client_id=client_id, kind="survey", occurred_on=body.date, details=details,
        principal=principal, cost=body.cost, average=average,
    )


@router.post("/{client_id}/services/{code}/deliveries", status_code=status.HTTP_201_CREATED, responses=RECORDING)
async def record_delivery(
    client_id: str, code: str, body: Delivery, principal: Recorder, transactions: Transactions
) -> Recorded:
    return await _record(
        transactions, client_id=client_id, kind="service", occurred_on=body.date, details={"note": body.note},
        principal=principal, cost=body.cost, code=code,
    )


class RecordView(BaseModel):
    record_id: int
    kind: str
    service_code: str
    date: date
    level: str | None
    cost: Decimal
    received_at: datetime | None
    resolved_at: datetime | None
    verified: bool | None
    overdue: bool
    average: Decimal | None
    details: dict[str, Any]
    recorded_by: str
    recorded_at: datetime


class Records(BaseModel):
    client_id: str
    records: list[RecordView]
    limit: int
    offset: int


@router.get("/{client_id}/records", responses={**PROBLEMS, 404: {"model": Problem, "description": "unknown client"}})
async def client_records(
    client_id: str,
    _: Reader,
    transactions: Transactions,
    kind: RecordKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Records:
    """The client's records, newest first; a complaint unresolved past the response time is `overdue`."""
    moment = now()
    async with transactions.read() as uow:
        await group_records.known_client(uow, client_id)
        rows = await uow.group_records.page(client_id, kind=kind, limit=limit, offset=offset)
        ruleset = uow.group_ruleset
    return Records(
        client_id=client_id, limit=limit, offset=offset,
        records=[
            RecordView(
                record_id=row["record_id"], kind=row["kind"], service_code=row["service_code"], date=row["occurred_on"],
                level=row["level"], cost=row["cost"], received_at=row["received_at"], resolved_at=row["resolved_at"],
                verified=row["verified"], average=row["average"], details=row["details"],
                recorded_by=row["recorded_by"], recorded_at=row["recorded_at"],
                overdue=row["kind"] == "complaint" and row["received_at"] is not None and is_overdue(
                    received_at=row["received_at"], resolved_at=row["resolved_at"], now=moment, ruleset=ruleset
                ),
            )
            for row in rows
        ],
    )
