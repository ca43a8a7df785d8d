"""Scoring's HTTP API: how a customer's points are made up."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from services.scoring.domain import score_customer, score_policy
from services.scoring.repository import ScoringUnitOfWork
from shared.auth import Principal, require_roles
from shared.db import Transactions

router = APIRouter(prefix="/v1", tags=["scoring"])

CallCenterOrOps = Annotated[Principal, Depends(require_roles("call_center", "ops"))]


def transactions_of(request: Request) -> Transactions[ScoringUnitOfWork]:
    transactions: Transactions[ScoringUnitOfWork] = request.app.state.runtime.transactions
    return transactions


@router.get("/customers/{customer_id}/points")
async def customer_points(
    customer_id: str,
    _: CallCenterOrOps,
    transactions: Annotated[Transactions[ScoringUnitOfWork], Depends(transactions_of)],
    as_of: Annotated[date | None, Query(description="date to score at; default today, insurer's time")] = None,
) -> dict[str, Any]:
    """Each policy the customer holds: formula, points, and whether it counts, is pending or is excluded."""
    async with transactions.read() as uow:
        held = await uow.policies.held_by(customer_id)
        ruleset = uow.ruleset
    if not held:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} holds no known policy")
    day = as_of or datetime.now(ruleset.zone).date()
    score = score_customer(score_policy(policy, ruleset=ruleset, as_of=day) for policy in held)
    return {
        "customer_id": customer_id,
        "as_of": day.isoformat(),
        "ruleset_version": ruleset.version,
        "points": f"{score.points:.2f}",
        "standard_premium": f"{score.standard_premium:.2f}",
        "pending_points": f"{score.pending_points:.2f}",
        "serving_channel": score.serving_channel,
        "policies": [
            {
                "policy_no": policy.policy_no,
                "channel": policy.channel,
                "state": policy.state,
                "points": f"{policy.points:.2f}",
                "standard_premium": f"{policy.standard_premium:.2f}",
                "pending_points": f"{policy.pending_points:.2f}",
                "pending_until": policy.pending_until,
                "explanation": policy.explanation,
            }
            for policy in score.policies
        ],
    }
