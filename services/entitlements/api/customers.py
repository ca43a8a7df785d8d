"""The call center's look-ups of interfaces.md: the customer and their entitlement list.

Both are hot paths: neither validates a response model per request. The customer look-up answers
the body PostgreSQL builds (`repositories/lookup.py`); the list is a plain dict. Their schemas are
documented with `responses` models only.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.entitlements.api import Transactions, today
from services.entitlements.domain.customers import Customer
from services.entitlements.domain.entitlements import Entitlement
from services.entitlements.repositories.lookup import CustomerLookup
from services.entitlements.workflows.customers import entitlement_list, not_seen
from shared.api import PROBLEMS, CallCenter
from shared.bounds import Day, PathId

router: APIRouter = APIRouter(prefix="/v1", tags=["call center"])


class RepresentativeView(BaseModel):
    agent_id: str
    name: str
    channel: str


class CustomerView(BaseModel):
    customer_id: str
    tier: str | None
    honorary: bool
    standard: str
    points: str
    vip_since: date | None
    serving_channel: str | None
    pending_points: str
    """Additive: points waiting for a cooling-off to end ("0.00" when none)..."""
    pending_from: date | None
    """...and the day the earliest of them count (null when none is pending)."""
    representative: RepresentativeView | None


class EntitlementView(BaseModel):
    code: str
    name: str
    category: str
    eligible: bool
    quota: int | None
    used: int
    remaining: int | None
    period_start: date | None
    period_end: date | None


class EntitlementsView(BaseModel):
    customer_id: str
    tier: str | None
    entitlements: list[EntitlementView]


def customer_view(customer: Customer) -> dict[str, Any]:
    """The look-up's body for a stored customer: `lookup.CUSTOMER_VIEW` builds the same in SQL (tested)."""
    representative = customer.representative
    return {
        "customer_id": customer.customer_id,
        "tier": customer.tier.value if customer.tier else None,
        "honorary": customer.honorary_tier is not None,
        "standard": customer.standard.value,
        "points": f"{customer.points:.2f}",
        "vip_since": customer.vip_since.isoformat() if customer.vip_since else None,
        "serving_channel": customer.serving_channel,
        "pending_points": f"{customer.pending_points:.2f}",
        "pending_from": customer.pending_from.isoformat() if customer.pending_from else None,
        "representative": {
            "agent_id": representative.agent_id,
            "name": representative.name,
            "channel": representative.channel.value,
        }
        if representative
        else None,
    }


def entitlement_view(entitlement: Entitlement) -> dict[str, Any]:
    service = entitlement.service
    return {
        "code": service.code,
        "name": service.name,
        "category": service.category,
        "eligible": entitlement.eligible,
        "quota": entitlement.quota,
        "used": entitlement.used,
        "remaining": entitlement.remaining,
        "period_start": entitlement.period_start.isoformat() if entitlement.period_start else None,
        "period_end": entitlement.period_end.isoformat() if entitlement.period_end else None,
    }


@router.get(
    "/customers/{customer_id}",
    response_class=Response,
    responses={**PROBLEMS, 200: {"model": CustomerView, "content": {"application/json": {}}}, 404: {
        "description": "never seen"
    }},
)
async def customer(customer_id: PathId, _: CallCenter, request: Request) -> Response:
    """Tier, standard, points held against its thresholds, serving channel and representative.

    The call center's hot path: one SELECT that returns the body (repositories/lookup.py), no
    transaction, no response model; the body is `customer_view` of the stored customer.
    """
    lookup: CustomerLookup = request.app.state.customer_lookup
    body = await lookup.customer_view(customer_id)
    if body is None:
        raise not_seen(customer_id)
    return Response(body, media_type="application/json")


@router.get(
    "/customers/{customer_id}/entitlements",
    responses={**PROBLEMS, 200: {"model": EntitlementsView}, 404: {"description": "never seen"}},
)
async def entitlements(
    customer_id: PathId,
    _: CallCenter,
    transactions: Transactions,
    as_of: Annotated[Day | None, Query(description="the day to look at; default today")] = None,
) -> dict[str, Any]:
    """Every catalog service, then the branch's approved featured services, with quotas and use."""
    async with transactions.read() as uow:
        listed = await entitlement_list(uow, customer_id=customer_id, as_of=as_of or today(uow.ruleset))
    tier = listed.customer.tier
    return {
        "customer_id": customer_id,
        "tier": tier.value if tier else None,
        "entitlements": [entitlement_view(entitlement) for entitlement in listed.entitlements],
    }
