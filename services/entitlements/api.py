"""The call-center API of interfaces.md, redemption reversal and history, and the daily run."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.entitlements import redemptions
from services.entitlements.domain import Entitlement, catalog_from, entitlements_for, visible_services
from services.entitlements.handlers import roll_over_due_periods
from services.entitlements.lookup import CustomerLookup
from services.entitlements.repository import CustomerRecord, EntitlementsUnitOfWork
from shared.auth import Principal, require_roles
from shared.db import Transactions
from shared.ruleset import Ruleset

router = APIRouter(prefix="/v1", tags=["call center"])

CallCenter = Annotated[Principal, Depends(require_roles("call_center"))]
AdminOrOps = Annotated[Principal, Depends(require_roles("admin", "ops"))]

REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not eligible: body {reason: not_eligible, detail}"},
    404: {"description": "unknown customer or service code: body {reason, detail}"},
    409: {"description": "quota used up: body {reason: quota_used_up, detail}"},
    422: {"description": "Idempotency-Key reused for another request, or vendor without usable contract"},
}


def transactions_of(request: Request) -> Transactions[EntitlementsUnitOfWork]:
    transactions: Transactions[EntitlementsUnitOfWork] = request.app.state.runtime.transactions
    return transactions


Db = Annotated[Transactions[EntitlementsUnitOfWork], Depends(transactions_of)]


def today(ruleset: Ruleset) -> date:
    """The insurer's local date: rules never read the clock, so the API reads it for them."""
    return datetime.now(ruleset.zone).date()


def not_seen(customer_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} is not known to the platform")


def customer_view(customer: CustomerRecord) -> dict[str, Any]:
    """The look-up's body for a customer record: `lookup.CUSTOMER_VIEW` builds the same in SQL (tested)."""
    representative = customer.representative
    return {
        "customer_id": customer.customer_id,
        "tier": customer.tier.value if customer.tier else None,
        "honorary": customer.honorary_tier is not None,
        "standard": customer.standard.value,
        "points": f"{customer.points:.2f}",
        "vip_since": customer.vip_since.isoformat() if customer.vip_since else None,
        "serving_channel": customer.serving_channel,
        "representative": representative.model_dump(mode="json") if representative else None,
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
    responses={200: {"content": {"application/json": {}}}, 404: {"description": "never seen"}},
)
async def customer(customer_id: str, _: CallCenter, request: Request) -> Response:
    """Tier, standard, points held against its thresholds, serving channel and representative.

    The call center's hot path: one SELECT that returns the body (services/entitlements/lookup.py),
    no transaction, no response model; the body is `customer_view` of the stored customer.
    """
    lookup: CustomerLookup = request.app.state.customer_lookup
    body = await lookup.customer_view(customer_id)
    if body is None:
        raise not_seen(customer_id)
    return Response(body, media_type="application/json")


@router.get("/customers/{customer_id}/entitlements", responses={404: {"description": "never seen"}})
async def entitlements(
    customer_id: str,
    _: CallCenter,
    transactions: Db,
    as_of: Annotated[date | None, Query(description="the day to look at; default today")] = None,
) -> dict[str, Any]:
    """Every catalog service, then the branch's approved featured services, with quotas and use."""
    async with transactions.read() as uow:
        found = await uow.customers.find(customer_id)
        if found is None:
            raise not_seen(customer_id)
        day = as_of or today(uow.ruleset)
        standing, period_id = await uow.standing_of(found)
        featured = [f.service for f in await uow.vendors.approved_featured(found.branch)]
        usage = await uow.redemptions.usage(customer_id, period_id=period_id)
        catalog = catalog_from(uow.ruleset)
    services = visible_services(catalog=catalog, featured=featured, standing=standing, as_of=day)
    listed = entitlements_for(services=services, standing=standing, usage=usage, as_of=day)
    return {
        "customer_id": customer_id,
        "tier": found.tier.value if found.tier else None,
        "entitlements": [entitlement_view(entitlement) for entitlement in listed],
    }


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor_id: str | None = Field(default=None, min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


@router.post(
    "/customers/{customer_id}/entitlements/{code}/redemptions",
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
async def redeem(
    *,
    customer_id: str,
    code: str,
    body: RedemptionRequest,
    principal: CallCenter,
    transactions: Db,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> JSONResponse:
    """Checks eligibility and quota and takes one unit, atomically; the same key answers the same."""
    async with transactions.begin() as uow:
        answer = await redemptions.redeem(
            uow,
            customer_id=customer_id,
            code=code,
            idempotency_key=idempotency_key,
            vendor_id=body.vendor_id,
            note=body.note,
            as_of=today(uow.ruleset),
            user_id=principal.user_id,
            new_redemption_id=f"R{uuid.uuid4().hex}",
        )
    return JSONResponse(answer.body, status_code=answer.status_code)


class ReversalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


@router.post(
    "/customers/{customer_id}/redemptions/{redemption_id}/reversal",
    responses={404: {"description": "unknown customer or redemption"}, 409: {"description": "already reversed"}},
)
async def reverse(
    customer_id: str, redemption_id: str, body: ReversalRequest, principal: CallCenter, transactions: Db
) -> JSONResponse:
    """Restores the unit (no-show, error); the redemption stays on record, marked reversed."""
    async with transactions.begin() as uow:
        answer = await redemptions.reverse(
            uow,
            customer_id=customer_id,
            redemption_id=redemption_id,
            reason=body.reason,
            as_of=today(uow.ruleset),
            user_id=principal.user_id,
        )
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.get("/customers/{customer_id}/redemptions")
async def redemption_history(customer_id: str, _: CallCenter, transactions: Db) -> dict[str, Any]:
    """Every use of a service by the customer, newest first, reversed ones included."""
    async with transactions.read() as uow:
        if await uow.customers.find(customer_id) is None:
            raise not_seen(customer_id)
        rows = await uow.redemptions.history(customer_id)
    return {
        "customer_id": customer_id,
        "redemptions": [
            {
                "redemption_id": row["redemption_id"],
                "code": row["service_code"],
                "redeemed_on": row["redeemed_on"].isoformat(),
                "vendor_id": row["vendor_id"],
                "unit_cost": f"{row['unit_cost']:.2f}",
                "borne_by": {"kind": row["bearer_kind"], "name": row["bearer"]},
                "note": row["note"],
                "reversed_at": row["reversed_at"].isoformat() if row["reversed_at"] else None,
                "reversal_reason": row["reversal_reason"],
            }
            for row in rows
        ],
    }


class DailyRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date


@router.post("/daily-runs", tags=["operations"])
async def daily_run(body: DailyRunRequest, _: AdminOrOps, transactions: Db, request: Request) -> dict[str, Any]:
    """Rolls over every value-added period that ended before `as_of`; safe to run twice."""
    batch_size: int = request.app.state.runtime.settings.daily_run_batch_size
    changed = 0
    while True:
        async with transactions.begin() as uow:
            rolled = await roll_over_due_periods(uow, as_of=body.as_of, limit=batch_size)
        changed += rolled
        if rolled < batch_size:
            break
    return {"as_of": body.as_of.isoformat(), "changed": changed}
