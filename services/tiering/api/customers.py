"""How a customer's tier came about: every decision, newest first, each with its reason."""

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from services.tiering.api.dependencies import Transactions
from services.tiering.domain.tiers import TierDecision
from shared.api import PROBLEMS, CallCenterOrOps
from shared.bounds import PathId
from shared.events.values import Channel, Standard, Tier
from shared.refusals import NotFound

router: APIRouter = APIRouter(prefix="/v1", tags=["tiering"])


class DecisionView(BaseModel):
    tier: Tier | None
    standard: Standard
    points: str
    """Two decimals, as published ("36000.00")."""
    effective_at: date
    trigger: str
    ruleset_version: str
    reason: str
    previous_tier: Tier | None
    computed_tier: Tier | None
    honorary_tier: Tier | None
    vip_since: date | None
    serving_channel: Channel | None
    branch: str | None
    pending_points: str
    """Points waiting for a cooling-off to end ("0.00" when none), counting from `pending_from`."""
    pending_from: date | None

    @classmethod
    def of(cls, decision: TierDecision) -> "DecisionView":
        return cls(
            tier=decision.tier,
            standard=decision.standard,
            points=f"{decision.points:.2f}",
            effective_at=decision.effective_at,
            trigger=decision.trigger,
            ruleset_version=decision.ruleset_version,
            reason=decision.reason,
            previous_tier=decision.previous_tier,
            computed_tier=decision.computed_tier,
            honorary_tier=decision.honorary_tier,
            vip_since=decision.vip_since,
            serving_channel=decision.serving_channel,
            branch=decision.branch,
            pending_points=f"{decision.pending_points:.2f}",
            pending_from=decision.pending_from,
        )


class TierHistory(BaseModel):
    customer_id: str
    decisions: list[DecisionView]


@router.get("/customers/{customer_id}/tier-history", responses={**PROBLEMS, 404: {"description": "unknown customer"}})
async def tier_history(customer_id: PathId, _: CallCenterOrOps, transactions: Transactions) -> TierHistory:
    """Every tier decision for the customer, newest first, each with the reason it was made."""
    async with transactions.read() as uow:
        if not await uow.customers.known(customer_id):
            raise NotFound(f"customer {customer_id} is not known to tiering", reason="unknown_customer")
        history = await uow.decisions.history(customer_id)
    return TierHistory(customer_id=customer_id, decisions=[DecisionView.of(decision) for decision in history])
