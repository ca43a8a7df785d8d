"""The call center's look-ups of interfaces.md: the customer and their entitlement list.

Both are hot paths: neither validates a response model per request. The customer look-up answers
the body PostgreSQL builds (`repositories/lookup.py`); the list is a plain dict. Their schemas are
documented with `responses` models only.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from services.entitlements.api.as_of import (
    AS_OF_PARAMETER,
    CorrectionView,
    CustomerHistory,
    HistoryEntry,
    allow_future,
    as_of_fields,
    day_of,
    json_of,
)
from services.entitlements.api.dependencies import Transactions, today
from services.entitlements.domain.customers import Customer
from services.entitlements.domain.entitlements import Entitlement
from services.entitlements.repositories.lookup import CustomerLookup
from services.entitlements.workflows.as_of import customer_on, entitlements_on
from services.entitlements.workflows.customers import entitlement_list, not_seen
from shared.api import PROBLEMS, CallCenter, CallCenterOrOps, transactions_of
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
    as_of: date | None = None
    """Additive, with `?as_of=D` only: the day answered, whether a later-recorded event changed the
    answer for it, and each such correction (api/as_of.py)."""
    corrected: bool | None = None
    corrections: list[CorrectionView] | None = None


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
    as_of: date | None = None
    corrected: bool | None = None
    corrections: list[CorrectionView] | None = None


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
    openapi_extra={"parameters": [AS_OF_PARAMETER]},
)
async def customer(customer_id: PathId, _: CallCenter, request: Request) -> Response:
    """Tier, standard, points held against its thresholds, serving channel and representative.

    The call center's hot path: one SELECT that returns the body (repositories/lookup.py), no
    transaction, no response model; the body is `customer_view` of the stored customer. With
    `?as_of=D` (read from the query string by hand, so the hot path parses nothing more), the body as
    decided for D, from the customer's history (`workflows/as_of.py`).
    """
    as_of_text = request.query_params.get("as_of")
    if as_of_text is not None:
        return JSONResponse(await _customer_as_of(request, customer_id=customer_id, as_of_text=as_of_text))
    lookup: CustomerLookup = request.app.state.customer_lookup
    body = await lookup.customer_view(customer_id)
    if body is None:
        raise not_seen(customer_id)
    return Response(body, media_type="application/json")


async def _customer_as_of(request: Request, *, customer_id: str, as_of_text: str) -> dict[str, Any]:
    as_of = day_of(as_of_text)
    async with transactions_of(request).read() as uow:
        found = await customer_on(
            uow, customer_id=customer_id, as_of=as_of, today=today(uow.ruleset), allow_future=allow_future(request)
        )
    return customer_view(found.customer) | as_of_fields(found, as_of=as_of)


@router.get(
    "/customers/{customer_id}/entitlements",
    responses={**PROBLEMS, 200: {"model": EntitlementsView}, 404: {"description": "never seen"}},
)
async def entitlements(
    customer_id: PathId,
    _: CallCenter,
    transactions: Transactions,
    request: Request,
    as_of: Annotated[
        Day | None, Query(description="answer as it stood on this day (from the histories); default today, as now")
    ] = None,
) -> dict[str, Any]:
    """Every catalog service, then the branch's approved featured services, with quotas and use.

    With `as_of`, the list as it stood at the end of that day (`workflows/as_of.py`), plus the
    additive `as_of`, `corrected` and `corrections` of the customer's standing that day."""
    if as_of is not None:
        async with transactions.read() as uow:
            past = await entitlements_on(
                uow, customer_id=customer_id, as_of=as_of, today=today(uow.ruleset), allow_future=allow_future(request)
            )
        held = past.standing.customer.tier
        return {
            "customer_id": customer_id,
            "tier": held.value if held else None,
            "entitlements": [entitlement_view(entitlement) for entitlement in past.entitlements],
        } | as_of_fields(past.standing, as_of=as_of)
    async with transactions.read() as uow:
        listed = await entitlement_list(uow, customer_id=customer_id, as_of=today(uow.ruleset))
    tier = listed.customer.tier
    return {
        "customer_id": customer_id,
        "tier": tier.value if tier else None,
        "entitlements": [entitlement_view(entitlement) for entitlement in listed.entitlements],
    }


@router.get("/customers/{customer_id}/history", responses={**PROBLEMS, 404: {"description": "never seen"}})
async def customer_history(customer_id: PathId, _: CallCenterOrOps, transactions: Transactions) -> CustomerHistory:
    """Every tier decision and representative change applied, newest recorded first, each with the day
    it holds from and when it was recorded: what the as-of answers are made of (api/as_of.py)."""
    async with transactions.read() as uow:
        rows = await uow.history.of(customer_id)
    if not rows:
        raise not_seen(customer_id)
    return CustomerHistory(
        customer_id=customer_id,
        history=[
            HistoryEntry(
                kind=row.kind,
                revision=row.revision,
                effective_on=row.effective_on,
                recorded_at=row.recorded_at.isoformat(),
                state={name: json_of(value) for name, value in row.state.items()},
            )
            for row in sorted(rows, key=lambda row: row.recorded_at, reverse=True)
        ],
    )
