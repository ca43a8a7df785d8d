"""HTTP for the group program in tiering (rules.md section 9): the on-demand evaluation of a client,
and designation applications (附件一) decided along the group ruleset's chain.

Designations are honorary applications of program `group`: the same commands, rules and audit
trail (`workflows/honorary.py`, `domain/honorary.py`), the chain taken from the group ruleset when
the application is filed. This layer reads the clock: "today" is the date in the ruleset's zone.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.tiering.api.dependencies import Transactions
from services.tiering.api.honorary import AnyUser, ApplicationListing, ApplicationView, decide_for_program, now, today
from services.tiering.domain.group import Evaluation
from services.tiering.domain.group_state import GroupClientState
from services.tiering.domain.honorary import GROUP, State, Verdict
from services.tiering.repositories.group_clients import inputs_document
from services.tiering.workflows.group_levels import evaluate_on_demand
from services.tiering.workflows.honorary import file_application
from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.bounds import PathId, QueryId
from shared.refusals import NotFound

router: APIRouter = APIRouter(prefix="/v1", tags=["group program"])

Ops = Annotated[Principal, Depends(require_roles("ops"))]
Applicant = Annotated[Principal, Depends(require_roles("branch_group_insurance"))]
Viewer = Annotated[
    Principal, Depends(require_roles("ops", "admin", "branch_group_insurance", "branch_gm", "hq_group_insurance"))
]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    403: {"description": "the role is missing, or this user already decided a step or filed the application"},
    404: {"description": "no such group client or designation"},
    409: {"description": "out of turn, closed, an open designation exists, or a date before the last evaluation"},
    422: {"description": "unknown level, missing reason or comment, expiry not in the future"},
}


class EvaluationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date


class CoefficientsView(BaseModel):
    scale: str
    loyalty: str
    profit: str


class EvaluationView(BaseModel):
    """The evaluation as stored: level, score, the three coefficients and their inputs, table version,
    a readable reason; and the client's effective level after it."""

    client_id: str
    as_of: date
    level: str | None = Field(description="the evaluated level; None: a regular client")
    effective_level: str | None = Field(description="the higher of evaluated and approved; None without a policy")
    score: str
    coefficients: CoefficientsView
    inputs: dict[str, Any]
    ruleset_version: str
    reason: str


class ClientEvaluations(BaseModel):
    """What tiering holds of a client now, and its evaluations, newest first."""

    client_id: str
    level: str | None
    evaluated_level: str | None
    approved_level: str | None
    approved_expires_on: date | None
    annual_standard_premium: str
    in_force_policies: int
    experience_periods: int
    verified_complaints: int
    survey_average: str | None
    evaluations: list[dict[str, Any]]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Verdict
    comment: str | None = Field(default=None, max_length=4000, description="required for a rejection")
    step: str | None = Field(default=None, description="the step the caller means to decide; refused if not next")


class DesignationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=64)
    level: str = Field(description="a level of the group ruleset, e.g. level_1")
    reason: str | None = None
    expires_on: date | None = Field(default=None, description="the level holds until the evaluation after it")


@router.post("/group-clients/{client_id}/evaluations", responses=_REFUSALS)
async def evaluate(client_id: PathId, body: EvaluationRequest, _: Ops, transactions: Transactions) -> EvaluationView:
    """Evaluate one client now, as of `as_of`: stored, and published when the level or its reasons change."""
    async with transactions.begin() as uow:
        client, evaluation = await evaluate_on_demand(uow, client_id=client_id, as_of=body.as_of, at=now())
    return _evaluation_view(client, evaluation)


@router.get("/group-clients/{client_id}/evaluations", responses=_REFUSALS)
async def evaluations(
    client_id: PathId, _: Ops, transactions: Transactions, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> ClientEvaluations:
    """The client's level, the facts the next evaluation will read, and its evaluations (newest first)."""
    async with transactions.read() as uow:
        client = await uow.group_clients.find(client_id)
        if client is None or not client.known:
            raise NotFound(f"group client {client_id} is unknown", reason="unknown_client")
        stored = await uow.group_clients.evaluations_of(client_id, limit=limit)
    return ClientEvaluations(
        client_id=client_id,
        level=client.level,
        evaluated_level=client.evaluated_level,
        approved_level=client.approved_level,
        approved_expires_on=client.approved_expires_on,
        annual_standard_premium=f"{client.annual_standard_premium:.2f}",
        in_force_policies=client.in_force_policies,
        experience_periods=len(client.experience),
        verified_complaints=client.verified_complaints,
        survey_average=str(client.survey_average) if client.survey_average is not None else None,
        evaluations=[
            {**row, "score": str(row["score"]), "scale": str(row["scale"]), "loyalty": str(row["loyalty"]),
             "profit": str(row["profit"]), "decided_at": row["decided_at"].isoformat(),
             "evaluated_on": row["evaluated_on"].isoformat()}
            for row in stored
        ],
    )


@router.post("/group-designations", status_code=status.HTTP_201_CREATED, responses=_REFUSALS)
async def file(body: DesignationRequest, principal: Applicant, transactions: Transactions) -> ApplicationView:
    """A branch's group-insurance department applies for a client's level; the group chain decides it."""
    at = now()
    async with transactions.begin() as uow:
        if not (await uow.group_clients.get(body.client_id)).known:
            raise NotFound(f"group client {body.client_id} is unknown", reason="unknown_client")
        ruleset = uow.group_ruleset
        application = await file_application(
            uow,
            customer_id=body.client_id,
            tier=body.level,
            reason=body.reason,
            expires_on=body.expires_on,
            user_id=principal.user_id,
            as_of=today(uow.ruleset, at),
            at=at,
            program=GROUP,
            chain=ruleset.designation_chain,
            levels=tuple(band.level for band in ruleset.levels if band.level is not None),
        )
    return ApplicationView.of(application)


@router.post("/group-designations/{application_id}/decisions", responses=_REFUSALS)
async def decide(
    application_id: PathId, body: DecisionRequest, principal: AnyUser, transactions: Transactions
) -> ApplicationView:
    """The decision of the step now waiting, by a user holding its role; the last approval designates."""
    return await decide_for_program(
        application_id=application_id, verdict=body.decision, comment=body.comment, step=body.step,
        principal=principal, transactions=transactions, program=GROUP,
    )


@router.get("/group-designations/{application_id}", responses=_REFUSALS)
async def show(application_id: PathId, _: Viewer, transactions: Transactions) -> ApplicationView:
    async with transactions.read() as uow:
        application = await uow.honorary.get(application_id)
    if application is None or application.program != GROUP:
        raise NotFound(f"no group designation {application_id}", reason="unknown_application")
    return ApplicationView.of(application)


@router.get("/group-designations", responses=PROBLEMS)
async def listing(
    _: Viewer,
    transactions: Transactions,
    state: State | None = None,
    step: Annotated[str | None, Query(max_length=64, description="only designations waiting at this step")] = None,
    client_id: QueryId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApplicationListing:
    """Designations, oldest first, and how many wait at each step of the group chain."""
    async with transactions.read() as uow:
        chain = uow.group_ruleset.designation_chain
        waiting = await uow.honorary.waiting_per_step(program=GROUP, chain=chain)
        applications = await uow.honorary.listing(
            state=state, step=step, customer_id=client_id, limit=limit, program=GROUP
        )
    return ApplicationListing(waiting=waiting, applications=[ApplicationView.of(a) for a in applications])


def _evaluation_view(client: GroupClientState, evaluation: Evaluation) -> EvaluationView:
    return EvaluationView(
        client_id=client.client_id,
        as_of=evaluation.as_of,
        level=evaluation.level,
        effective_level=client.level,
        score=str(evaluation.score),
        coefficients=CoefficientsView(
            scale=str(evaluation.scale), loyalty=str(evaluation.loyalty), profit=str(evaluation.profit)
        ),
        inputs=inputs_document(evaluation),
        ruleset_version=evaluation.ruleset_version,
        reason=evaluation.reason,
    )
