"""Tiering's HTTP API: how a customer's tier came about, and the daily run."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict

from services.tiering.domain import TierDecision
from services.tiering.handlers import run_daily
from services.tiering.honorary_workflow import expire_grants
from services.tiering.repository import TieringUnitOfWork
from shared.auth import Principal, require_roles
from shared.db import Transactions

router = APIRouter(prefix="/v1", tags=["tiering"])

CallCenterOrOps = Annotated[Principal, Depends(require_roles("call_center", "ops"))]
AdminOrOps = Annotated[Principal, Depends(require_roles("admin", "ops"))]


def transactions_of(request: Request) -> Transactions[TieringUnitOfWork]:
    transactions: Transactions[TieringUnitOfWork] = request.app.state.runtime.transactions
    return transactions


Db = Annotated[Transactions[TieringUnitOfWork], Depends(transactions_of)]


def _as_json(decision: TierDecision) -> dict[str, Any]:
    return {
        "tier": decision.tier,
        "standard": decision.standard,
        "points": f"{decision.points:.2f}",
        "effective_at": decision.effective_at.isoformat(),
        "trigger": decision.trigger,
        "ruleset_version": decision.ruleset_version,
        "reason": decision.reason,
        "previous_tier": decision.previous_tier,
        "computed_tier": decision.computed_tier,
        "honorary_tier": decision.honorary_tier,
        "vip_since": decision.vip_since.isoformat() if decision.vip_since is not None else None,
        "serving_channel": decision.serving_channel,
    }


@router.get("/customers/{customer_id}/tier-history", responses={404: {"description": "unknown customer"}})
async def tier_history(customer_id: str, _: CallCenterOrOps, transactions: Db) -> dict[str, Any]:
    """Every tier decision for the customer, newest first, each with the reason it was made."""
    async with transactions.read() as uow:
        if not await uow.customers.known(customer_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} is not known to tiering")
        history = await uow.decisions.history(customer_id)
    return {"customer_id": customer_id, "decisions": [_as_json(decision) for decision in history]}


class DailyRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date


@router.post("/daily-runs", tags=["operations"])
async def daily_run(body: DailyRunRequest, _: AdminOrOps, transactions: Db, request: Request) -> dict[str, Any]:
    """Makes every time-driven tier change due on or before `as_of` (honorary expiry); safe to run twice.

    An honorary tier lapses in the customer's state and its grant is closed as `expired` in the
    application's audit trail, in the same transaction.

    Due customers are found by date through an index, never by scanning every customer.
    """
    batch_size: int = request.app.state.runtime.settings.daily_run_batch_size
    changed = 0
    while True:
        async with transactions.begin() as uow:
            looked_at, published = await run_daily(uow, as_of=body.as_of, limit=batch_size)
            grants_looked_at = await expire_grants(
                uow, as_of=body.as_of, limit=batch_size, at=datetime.now(UTC)
            )
        changed += published
        if looked_at < batch_size and grants_looked_at < batch_size:
            break
    return {"as_of": body.as_of.isoformat(), "changed": changed}
