"""The group program in entitlements (rules.md section 9): the look-up of a client (interfaces.md,
roles `call_center`, `ops`, `group_service`) and its service records (附件三-六), listed (paginated,
newest first) for `ops` and `group_service`; recording them is `api/group_records.py`."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.entitlements.api.dependencies import Transactions
from services.entitlements.domain.group_records import RecordKind, is_overdue
from services.entitlements.workflows import group_records
from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.bounds import Offset, PathId
from shared.problems import Problem

router: APIRouter = APIRouter(prefix="/v1/group-clients", tags=["group program"])

LookUp = Annotated[Principal, Depends(require_roles("call_center", "ops", "group_service"))]
Reader = Annotated[Principal, Depends(require_roles("ops", "group_service"))]




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
async def group_client(client_id: PathId, _: LookUp, transactions: Transactions) -> GroupClientView:
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
    client_id: PathId,
    _: Reader,
    transactions: Transactions,
    kind: RecordKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
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
