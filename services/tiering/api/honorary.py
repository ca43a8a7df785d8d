"""HTTP for honorary VIP applications: file, decide step by step, look, list, revoke.

This layer reads the clock: "today" is the date in the ruleset's time zone. No route edits or
deletes a decision; the audit trail only grows. Refusals come from the rules and the workflow
(`shared.refusals`); the app answers them as problem details.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.tiering.api.dependencies import Transactions
from services.tiering.domain.honorary import APPROVER_ROLES, INDIVIDUAL, REVOKER_ROLE, Application, State, Step, Verdict
from services.tiering.workflows.honorary import decide_step, file_application, revoke_grant
from shared.api import PROBLEMS, problems
from shared.auth import ROLES, Principal, require_roles
from shared.bounds import PathId
from shared.events.values import Channel, Tier
from shared.refusals import NotFound
from shared.ruleset import Ruleset

router: APIRouter = APIRouter(prefix="/v1", tags=["honorary"])

Applicant = Annotated[Principal, Depends(require_roles("honorary_applicant"))]
AnyUser = Annotated[Principal, Depends(require_roles(*ROLES))]
"""Deciding is open to any user: the step decides which role it needs, and says so when it is missing."""
Viewer = Annotated[Principal, Depends(require_roles("ops", "admin", "honorary_applicant", *APPROVER_ROLES))]
Revoker = Annotated[Principal, Depends(require_roles(REVOKER_ROLE))]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    **problems(
        403, 404, 409, 422,
        s403="the step needs another role, or this user already decided a step",
        s404="no such application",
        s409="out of turn, closed, an open application exists, or the expiry has passed",
        s422="unknown tier, missing reason or comment, expiry not in the future",
    ),
}


def now() -> datetime:
    return datetime.now(UTC)


def today(ruleset: Ruleset, at: datetime) -> date:
    return at.astimezone(ruleset.zone).date()


class ApplicationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    tier: str = Field(
        description="gold, platinum or diamond (another answers 422, reason unknown_tier)",
        json_schema_extra={"enum": [tier.value for tier in Tier]},
    )
    reason: str | None = None
    expires_on: date | None = None
    channel: Channel | None = Field(default=None, description="the filing channel: serves the VIP if no policy counts")
    branch: str | None = Field(default=None, min_length=1, max_length=64, description="the filing branch, likewise")


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Verdict
    comment: str | None = Field(default=None, max_length=4000, description="required for a rejection")
    step: Step | None = Field(default=None, description="the step the caller means to decide; refused if not next")


class RevocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=4000, description="why the status is revoked (required)")


class StepView(BaseModel):
    number: int
    step: str
    role: str


class StepProgress(StepView):
    status: str = Field(description="decided, waiting, upcoming, or not_reached (the chain closed before it)")
    decision: Verdict | None
    who: str | None
    when: str | None
    comment: str | None


class EndingView(BaseModel):
    kind: str
    who: str
    when: str
    effective_on: date
    comment: str | None


class ApplicationView(BaseModel):
    """An application, its state, and every step: who decided, in which role, when, how, why.

    Times are written as `datetime.isoformat()` writes them, dates as YYYY-MM-DD.
    """

    id: str
    program: str = Field(description="individual (honorary status) or group (a client's level)")
    customer_id: str
    tier: str
    reason: str
    expires_on: date | None
    channel: Channel | None
    branch: str | None
    filed_by: str
    filed_at: str
    state: State
    next_step: StepView | None
    steps: list[StepProgress]
    ending: EndingView | None

    @classmethod
    def of(cls, application: Application) -> "ApplicationView":
        next_step = application.next_step
        ending = application.ending
        return cls(
            id=application.id,
            program=application.program,
            customer_id=application.customer_id,
            tier=str(application.tier),
            reason=application.reason,
            expires_on=application.expires_on,
            channel=application.channel,
            branch=application.branch,
            filed_by=application.filed_by,
            filed_at=application.filed_at.isoformat(),
            state=application.state,
            next_step=None if next_step is None else _step_view(application, next_step),
            steps=_progress(application),
            ending=None
            if ending is None
            else EndingView(
                kind=ending.kind.value,
                who=ending.ended_by,
                when=ending.recorded_at.isoformat(),
                effective_on=ending.effective_on,
                comment=ending.comment,
            ),
        )


class ApplicationListing(BaseModel):
    waiting: dict[str, int] = Field(description="applications waiting at each step of the chain, zeros too")
    applications: list[ApplicationView]


@router.post("/honorary-applications", status_code=status.HTTP_201_CREATED, responses=_REFUSALS)
async def file(body: ApplicationRequest, principal: Applicant, transactions: Transactions) -> ApplicationView:
    """A branch channel applies for honorary VIP status for a customer; the chain starts at branch_ops."""
    at = now()
    async with transactions.begin() as uow:
        application = await file_application(
            uow,
            customer_id=body.customer_id,
            tier=body.tier,
            reason=body.reason,
            expires_on=body.expires_on,
            channel=body.channel,
            branch=body.branch,
            user_id=principal.user_id,
            as_of=today(uow.ruleset, at),
            at=at,
        )
    return ApplicationView.of(application)


@router.post("/honorary-applications/{application_id}/decisions", responses=_REFUSALS)
async def decide(
    application_id: PathId, body: DecisionRequest, principal: AnyUser, transactions: Transactions
) -> ApplicationView:
    """The decision of the step now waiting, by a user holding its role; the last approval grants."""
    return await decide_for_program(
        application_id=application_id, verdict=body.decision, comment=body.comment, step=body.step,
        principal=principal, transactions=transactions, program=INDIVIDUAL,
    )


async def decide_for_program(
    *,
    application_id: str,
    verdict: Verdict,
    comment: str | None,
    step: str | None,
    principal: Principal,
    transactions: Transactions,
    program: str,
) -> ApplicationView:
    """One decision route for every program's chain (honorary applications, group designations)."""
    at = now()
    async with transactions.begin() as uow:
        application = await decide_step(
            uow,
            application_id=application_id,
            user_id=principal.user_id,
            roles=principal.roles,
            verdict=verdict,
            comment=comment,
            expected_step=step,
            as_of=today(uow.ruleset, at),
            at=at,
            program=program,
        )
    return ApplicationView.of(application)


@router.post("/honorary-applications/{application_id}/revocation", responses=_REFUSALS)
async def revoke_application(
    application_id: PathId, body: RevocationRequest, principal: Revoker, transactions: Transactions
) -> ApplicationView:
    """HQ customer service revokes the honorary status this application granted."""
    return await _revoke(body, principal=principal, transactions=transactions, application_id=application_id)


@router.post("/customers/{customer_id}/honorary/revocation", responses=_REFUSALS)
async def revoke_customer(
    customer_id: PathId, body: RevocationRequest, principal: Revoker, transactions: Transactions
) -> ApplicationView:
    """HQ customer service revokes the customer's honorary status, whichever application granted it."""
    return await _revoke(body, principal=principal, transactions=transactions, customer_id=customer_id)


async def _revoke(
    body: RevocationRequest, *, principal: Principal, transactions: Transactions, **grant: str
) -> ApplicationView:
    """`grant` names the grant to end: `application_id=` or `customer_id=`."""
    at = now()
    async with transactions.begin() as uow:
        application = await revoke_grant(
            uow, user_id=principal.user_id, comment=body.comment, as_of=today(uow.ruleset, at), at=at, **grant
        )
    return ApplicationView.of(application)


@router.get("/honorary-applications/{application_id}", responses=_REFUSALS)
async def show(application_id: PathId, _: Viewer, transactions: Transactions) -> ApplicationView:
    """The application, its state, and every step: who decided, in which role, when, how, why."""
    async with transactions.read() as uow:
        application = await uow.honorary.get(application_id)
    if application is None or application.program != "individual":
        raise NotFound(f"no honorary application {application_id}", reason="unknown_application")
    return ApplicationView.of(application)


@router.get("/honorary-applications", responses=PROBLEMS)
async def listing(
    _: Viewer,
    transactions: Transactions,
    state: State | None = None,
    step: Annotated[Step | None, Query(description="only applications waiting at this step")] = None,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApplicationListing:
    """Applications, oldest first, and how many wait at each step of the chain."""
    async with transactions.read() as uow:
        waiting = await uow.honorary.waiting_per_step()
        applications = await uow.honorary.listing(state=state, step=step, customer_id=customer_id, limit=limit)
    return ApplicationListing(
        waiting=waiting,
        applications=[ApplicationView.of(application) for application in applications],
    )


def _progress(application: Application) -> list[StepProgress]:
    """Every step of the chain: decided ones with who/when/decision/comment, then `waiting`, `upcoming` or
    `not_reached` (the chain closed before them)."""
    decided = {decision.step: decision for decision in application.decisions}
    waiting = application.next_step
    steps = []
    for step in application.chain:
        decision = decided.get(step)
        if decision is not None:
            progress = "decided"
        elif step == waiting:
            progress = "waiting"
        else:
            progress = "upcoming" if waiting is not None else "not_reached"
        steps.append(
            StepProgress(
                **_step_view(application, step).model_dump(),
                status=progress,
                decision=decision.verdict if decision is not None else None,
                who=decision.decided_by if decision is not None else None,
                when=decision.decided_at.isoformat() if decision is not None else None,
                comment=decision.comment if decision is not None else None,
            )
        )
    return steps


def _step_view(application: Application, step: str) -> StepView:
    return StepView(number=application.step_number(step), step=step, role=step)
