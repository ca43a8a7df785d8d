"""Scoring's HTTP API: how a customer's points are made up, and the daily run."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict

from services.scoring.daily_run import run_daily
from services.scoring.domain import score_customer, score_policy
from services.scoring.repository import ScoringUnitOfWork, StaleSummary, policy_score_document
from shared.auth import Principal, require_roles
from shared.db import Transactions

router = APIRouter(prefix="/v1", tags=["scoring"])

CallCenterOrOps = Annotated[Principal, Depends(require_roles("call_center", "ops"))]
AdminOrOps = Annotated[Principal, Depends(require_roles("admin", "ops"))]


def transactions_of(request: Request) -> Transactions[ScoringUnitOfWork]:
    transactions: Transactions[ScoringUnitOfWork] = request.app.state.runtime.transactions
    return transactions


ScoringTransactions = Annotated[Transactions[ScoringUnitOfWork], Depends(transactions_of)]


class DailyRunRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: date


class DailyRunResult(BaseModel):
    as_of: date
    changed: int


def _with_stale(documents: list[dict[str, Any]], stale: dict[str, StaleSummary]) -> list[dict[str, Any]]:
    """Each policy's breakdown plus the stale events ignored for it (version not above the applied one)."""
    out = []
    for document in documents:
        summary = stale.get(document["policy_no"])
        out.append(
            document
            | {
                "stale_events_ignored": summary.count if summary else 0,
                "last_stale_version": summary.last_version if summary else None,
            }
        )
    return out


@router.get("/customers/{customer_id}/points")
async def customer_points(
    customer_id: str,
    _: CallCenterOrOps,
    transactions: ScoringTransactions,
    as_of: Annotated[
        date | None,
        Query(description="preview the score at this date; default: the score last determined and published"),
    ] = None,
) -> dict[str, Any]:
    """The customer's points and each policy held: formula, factor, N or Z, points, and whether it is
    counted, pending until a date, or excluded and why."""
    async with transactions.read() as uow:
        stored = await uow.customers.stored_view(customer_id)
        if as_of is not None:
            held = await uow.policies.held_by(customer_id)
            if stored is None and not held:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} is unknown")
            score = score_customer(score_policy(policy, ruleset=uow.ruleset, as_of=as_of) for policy in held)
            documents = [policy_score_document(policy) for policy in score.policies]
            figures: dict[str, Any] = {
                "as_of": as_of.isoformat(),
                "preview": True,
                "revision": None,
                "trigger": None,
                "ruleset_version": uow.ruleset.version,
                "points": f"{score.points:.2f}",
                "standard_premium": f"{score.standard_premium:.2f}",
                "pending_points": f"{score.pending_points:.2f}",
                "serving_channel": score.serving_channel,
                "next_pending_date": score.next_pending_date,
            }
        elif stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} is unknown")
        else:
            documents = list(stored["policies"])
            figures = {
                "as_of": stored["scored_as_of"].isoformat(),
                "preview": False,
                "revision": stored["revision"],
                "trigger": stored["trigger"],
                "ruleset_version": stored["ruleset_version"],
                "points": f"{stored['points']:.2f}",
                "standard_premium": f"{stored['standard_premium']:.2f}",
                "pending_points": f"{stored['pending_points']:.2f}",
                "serving_channel": stored["serving_channel"],
                "next_pending_date": stored["next_pending_date"],
            }
        stale = await uow.policies.stale_summaries(document["policy_no"] for document in documents)
    return {"customer_id": customer_id, **figures, "policies": _with_stale(documents, stale)}


@router.post("/daily-runs")
async def daily_run(
    body: DailyRunRequest, request: Request, _: AdminOrOps, transactions: ScoringTransactions
) -> DailyRunResult:
    """Policies whose cooling-off ends on or before `as_of` start to count: their holders are re-scored
    and published with trigger `daily_run`. Running a date again changes nothing."""
    zone = request.app.state.ruleset.zone
    changed = await run_daily(transactions, as_of=body.as_of, started_at=datetime.now(zone))
    return DailyRunResult(as_of=body.as_of, changed=changed)
