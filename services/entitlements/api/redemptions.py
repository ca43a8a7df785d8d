"""Redemptions through the call center: redeem a unit, reverse one, read the history."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, status
from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.api.dependencies import Transactions, today
from services.entitlements.workflows import redemptions
from services.entitlements.workflows.customers import known_customer
from shared.api import PROBLEMS, CallCenter
from shared.bounds import PathId
from shared.problems import Problem

router: APIRouter = APIRouter(prefix="/v1", tags=["call center"])

REFUSALS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    403: {"model": Problem, "description": "not eligible (reason not_eligible), or the token lacks the role"},
    404: {"model": Problem, "description": "unknown customer or service code (reason unknown_customer/_service)"},
    409: {
        "model": Problem,
        "description": "quota used up (reason quota_used_up), or no usable vendor contract for a value-added "
        "service (reason no_contract; the detail names the service and the customer's branch)",
    },
    422: {"model": Problem, "description": "Idempotency-Key reused for another request, or vendor without contract"},
}


class RedemptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor_id: str | None = Field(default=None, min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class RedemptionResult(BaseModel):
    redemption_id: str
    remaining: int | None


class ReversalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="why the use is reversed (no-show, error)")


class ReversalResult(BaseModel):
    redemption_id: str
    reversed_at: str
    remaining: int | None


class BorneBy(BaseModel):
    kind: str
    name: str


class RedemptionRecord(BaseModel):
    redemption_id: str
    code: str
    redeemed_on: str
    vendor_id: str | None
    unit_cost: str
    borne_by: BorneBy
    note: str | None
    reversed_at: str | None
    reversal_reason: str | None
    redeemed_by: str | None = None
    """Additive: who recorded the use, and who reversed it (a reversal is by another user)."""
    reversed_by: str | None = None


class RedemptionHistory(BaseModel):
    customer_id: str
    redemptions: list[RedemptionRecord]


@router.post(
    "/customers/{customer_id}/entitlements/{code}/redemptions",
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
async def redeem(
    *,
    customer_id: PathId,
    code: PathId,
    body: RedemptionBody,
    principal: CallCenter,
    transactions: Transactions,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> RedemptionResult:
    """Checks eligibility and quota and takes one unit, atomically; the same key answers the same."""
    request = redemptions.RedemptionRequest(
        customer_id=customer_id, code=code, idempotency_key=idempotency_key, vendor_id=body.vendor_id, note=body.note
    )
    async with transactions.begin() as uow:
        outcome = await redemptions.redeem(
            uow,
            request=request,
            as_of=today(uow.ruleset),
            user_id=principal.user_id,
            new_redemption_id=f"R{uuid.uuid4().hex}",
        )
    return RedemptionResult(redemption_id=outcome.redemption_id, remaining=outcome.remaining)


@router.post(
    "/customers/{customer_id}/redemptions/{redemption_id}/reversal",
    responses={
        **PROBLEMS,
        403: {"model": Problem, "description": "the user who redeemed cannot reverse it (reason own_redemption)"},
        404: {"model": Problem, "description": "unknown customer or redemption"},
        409: {"model": Problem, "description": "already reversed, or past the reversal window "
              "(reason reversal_window_passed)"},
        422: {"model": Problem, "description": "no reason given"},
    },
)
async def reverse(
    customer_id: PathId, redemption_id: PathId, body: ReversalBody, principal: CallCenter, transactions: Transactions
) -> ReversalResult:
    """Restores the unit (no-show, error): with a reason, by another user than the one who redeemed,
    within the ruleset's window; the redemption stays on record, marked reversed."""
    async with transactions.begin() as uow:
        done = await redemptions.reverse(
            uow,
            customer_id=customer_id,
            redemption_id=redemption_id,
            reason=body.reason,
            as_of=today(uow.ruleset),
            user_id=principal.user_id,
        )
    return ReversalResult(redemption_id=done.redemption_id, reversed_at=done.reversed_at, remaining=done.remaining)


@router.get("/customers/{customer_id}/redemptions", responses={**PROBLEMS, 404: {"model": Problem}})
async def redemption_history(customer_id: PathId, _: CallCenter, transactions: Transactions) -> RedemptionHistory:
    """Every use of a service by the customer, newest first, reversed ones included."""
    async with transactions.read() as uow:
        await known_customer(uow, customer_id)
        rows = await uow.redemptions.history(customer_id)
    return RedemptionHistory(
        customer_id=customer_id,
        redemptions=[
            RedemptionRecord(
                redemption_id=row["redemption_id"],
                code=row["service_code"],
                redeemed_on=row["redeemed_on"].isoformat(),
                vendor_id=row["vendor_id"],
                unit_cost=f"{row['unit_cost']:.2f}",
                borne_by=BorneBy(kind=row["bearer_kind"], name=row["bearer"]),
                note=row["note"],
                reversed_at=row["reversed_at"].isoformat() if row["reversed_at"] else None,
                reversal_reason=row["reversal_reason"],
                redeemed_by=row["redeemed_by"],
                reversed_by=row["reversed_by"],
            )
            for row in rows
        ],
    )
