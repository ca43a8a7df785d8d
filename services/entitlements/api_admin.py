"""Vendors, contracts, branch featured services and the cost report (rules.md section 6).

HQ customer service (`hq_customer_service`) registers vendors, signs HQ contracts and approves what
branches propose; a branch (`branch_ops`) proposes its own contracts and featured services; operations
(`ops`) read the cost report.
"""

import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.api import Db
from services.entitlements.domain import Service, catalog_from
from services.entitlements.redemption_repository import CostRow
from services.entitlements.vendor_repository import FeaturedService
from services.entitlements.vendors import Contract, ContractRefused, check_branch_contract
from shared.auth import Principal, require_roles
from shared.events.values import Identifier, Money, Tier

router = APIRouter(prefix="/v1", tags=["vendors and costs"])

HqCustomerService = Annotated[Principal, Depends(require_roles("hq_customer_service"))]
BranchOps = Annotated[Principal, Depends(require_roles("branch_ops"))]
Signer = Annotated[Principal, Depends(require_roles("hq_customer_service", "branch_ops"))]
Reader = Annotated[Principal, Depends(require_roles("hq_customer_service", "branch_ops", "ops"))]
Ops = Annotated[Principal, Depends(require_roles("ops"))]

_STRICT = ConfigDict(extra="forbid", frozen=True)


def problem(status_code: int, detail: str) -> HTTPException:
    return HTTPException(status_code, detail=detail)


class VendorRequest(BaseModel):
    model_config = _STRICT
    vendor_id: Identifier
    name: str = Field(min_length=1, max_length=200)


class ContractRequest(BaseModel):
    model_config = _STRICT
    service_code: Identifier
    vendor_id: Identifier
    unit_cost: Money
    branch: Identifier | None = Field(default=None, description="null: an HQ contract")
    reach: list[Identifier] | None = Field(default=None, description="HQ contract: branches; null = all")


class Decision(BaseModel):
    model_config = _STRICT
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)


class FeaturedRequest(BaseModel):
    model_config = _STRICT
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    branch: Identifier
    category: Literal["basic", "value_added"] = "value_added"
    tiers: list[Tier] = Field(default_factory=lambda: list(Tier), min_length=1)
    yearly_quota: int | None = Field(default=None, ge=1, le=1000)
    vendor_id: Identifier | None = None
    unit_cost: Money = Decimal("0.00")


def contract_view(contract: Contract, state: str) -> dict[str, Any]:
    return {
        "contract_id": contract.contract_id,
        "service_code": contract.service_code,
        "vendor_id": contract.vendor_id,
        "unit_cost": f"{contract.unit_cost:.2f}",
        "branch": contract.branch,
        "reach": sorted(contract.reach) if contract.reach is not None else None,
        "state": state,
    }


def featured_view(featured: FeaturedService) -> dict[str, Any]:
    service = featured.service
    return {
        "code": service.code,
        "name": service.name,
        "branch": service.branch,
        "category": service.category,
        "tiers": sorted(t.value for t in service.tiers),
        "yearly_quota": service.yearly_quota,
        "vendor_id": featured.vendor_id,
        "unit_cost": f"{featured.unit_cost:.2f}",
        "state": featured.state,
    }


@router.post("/vendors", status_code=status.HTTP_201_CREATED)
async def add_vendor(body: VendorRequest, principal: HqCustomerService, transactions: Db) -> dict[str, Any]:
    async with transactions.begin() as uow:
        if not await uow.vendors.add_vendor(vendor_id=body.vendor_id, name=body.name, by=principal.user_id):
            raise problem(409, f"vendor {body.vendor_id} already exists")
    return {"vendor_id": body.vendor_id, "name": body.name}


@router.get("/vendors")
async def list_vendors(_: Reader, transactions: Db) -> dict[str, Any]:
    async with transactions.read() as uow:
        return {"vendors": await uow.vendors.list_vendors()}


@router.post("/contracts", status_code=status.HTTP_201_CREATED)
async def add_contract(body: ContractRequest, principal: Signer, transactions: Db) -> dict[str, Any]:
    """An HQ contract (no branch; HQ customer service) is in force at once; a branch contract
    (branch_ops) waits for HQ approval and is refused where HQ's reaches or above HQ's unit cost."""
    hq = body.branch is None
    if hq and "hq_customer_service" not in principal.roles:
        raise problem(403, "an HQ contract (no branch) needs the role hq_customer_service")
    if not hq and "branch_ops" not in principal.roles:
        raise problem(403, "a branch contract needs the role branch_ops")
    if not hq and body.reach is not None:
        raise problem(422, "reach is for HQ contracts; a branch contract reaches its own branch")
    contract = Contract(
        contract_id=f"K{uuid.uuid4().hex[:16]}",
        service_code=body.service_code,
        vendor_id=body.vendor_id,
        unit_cost=body.unit_cost,
        branch=body.branch,
        reach=frozenset(body.reach) if body.reach is not None else None,
        approved=hq,
    )
    async with transactions.begin() as uow:
        if all(service.code != body.service_code for service in catalog_from(uow.ruleset)):
            raise problem(404, f"{body.service_code} is not a catalog service")
        if not await uow.vendors.vendor_exists(body.vendor_id):
            raise problem(404, f"vendor {body.vendor_id} is not registered")
        if not hq:
            try:
                check_branch_contract(proposal=contract, contracts=await uow.vendors.contracts_for(body.service_code))
            except ContractRefused as refused:
                raise problem(409, str(refused)) from None
        await uow.vendors.add_contract(contract, by=principal.user_id)
    return contract_view(contract, "approved" if hq else "pending")


@router.post("/contracts/{contract_id}/decisions")
async def decide_contract(
    contract_id: str, body: Decision, principal: HqCustomerService, transactions: Db
) -> dict[str, Any]:
    """HQ approval of a branch contract; the branch rules are checked again against today's HQ contracts."""
    async with transactions.begin() as uow:
        found = await uow.vendors.contract_state(contract_id, lock=True)
        if found is None:
            raise problem(404, f"no contract {contract_id}")
        contract, state = found
        if state != "pending":
            raise problem(409, f"contract {contract_id} is {state}, not pending")
        approve = body.decision == "approve"
        if approve:
            others = [c for c in await uow.vendors.contracts_for(contract.service_code) if c.contract_id != contract_id]
            try:
                check_branch_contract(proposal=contract, contracts=others)
            except ContractRefused as refused:
                raise problem(409, str(refused)) from None
        await uow.vendors.decide_contract(contract_id, approve=approve, by=principal.user_id, comment=body.comment)
    return contract_view(contract, "approved" if approve else "rejected")


@router.get("/contracts")
async def list_contracts(_: Reader, transactions: Db) -> dict[str, Any]:
    async with transactions.read() as uow:
        rows = await uow.vendors.contract_rows()
    return {"contracts": [{**row, "unit_cost": f"{row['unit_cost']:.2f}"} for row in rows]}


@router.post("/featured-services", status_code=status.HTTP_201_CREATED)
async def register_featured(body: FeaturedRequest, principal: BranchOps, transactions: Db) -> dict[str, Any]:
    """A branch's local service, at its own cost; offered to its VIPs once HQ customer service approves."""
    if body.category == "basic" and body.yearly_quota is not None:
        raise problem(422, "a basic service is unlimited: yearly_quota must be null")
    featured = FeaturedService(
        service=Service(
            code=body.code,
            name=body.name,
            category=body.category,
            tiers=frozenset(body.tiers),
            yearly_quota=body.yearly_quota,
            branch=body.branch,
        ),
        vendor_id=body.vendor_id,
        unit_cost=body.unit_cost,
        state="pending",
    )
    async with transactions.begin() as uow:
        if any(service.code == body.code for service in catalog_from(uow.ruleset)):
            raise problem(409, f"{body.code} is a catalog service")
        if body.vendor_id is not None and not await uow.vendors.vendor_exists(body.vendor_id):
            raise problem(404, f"vendor {body.vendor_id} is not registered")
        if not await uow.vendors.add_featured(featured, by=principal.user_id):
            raise problem(409, f"featured service {body.code} already exists")
    return featured_view(featured)


@router.post("/featured-services/{code}/decisions")
async def decide_featured(code: str, body: Decision, principal: HqCustomerService, transactions: Db) -> dict[str, Any]:
    async with transactions.begin() as uow:
        found = await uow.vendors.featured(code)
        if found is None:
            raise problem(404, f"no featured service {code}")
        if found.state != "pending":
            raise problem(409, f"featured service {code} is {found.state}, not pending")
        approve = body.decision == "approve"
        await uow.vendors.decide_featured(code, approve=approve, by=principal.user_id, comment=body.comment)
    return featured_view(
        FeaturedService(
            service=found.service,
            vendor_id=found.vendor_id,
            unit_cost=found.unit_cost,
            state="approved" if approve else "rejected",
        )
    )


@router.get("/featured-services")
async def list_featured(_: Reader, transactions: Db) -> dict[str, Any]:
    async with transactions.read() as uow:
        return {"featured_services": [featured_view(f) for f in await uow.vendors.all_featured()]}


def _totals(rows: list[CostRow], dimension: str) -> list[dict[str, Any]]:
    sums: dict[str | None, list[Any]] = defaultdict(lambda: [0, Decimal("0.00")])
    for row in rows:
        key = getattr(row, dimension)
        sums[key][0] += row.redemptions
        sums[key][1] += row.cost
    return [
        {dimension: key, "redemptions": used, "cost": f"{cost:.2f}"}
        for key, (used, cost) in sorted(sums.items(), key=lambda item: (item[0] is None, str(item[0])))
    ]


@router.get("/reports/costs", tags=["operations"])
async def cost_report(
    _: Ops,
    transactions: Db,
    first_day: Annotated[date, Query(alias="from", description="first day, included")],
    last_day: Annotated[date, Query(alias="to", description="last day, included")],
) -> dict[str, Any]:
    """Value-added usage and cost by channel, branch, vendor and service; reversed uses cost nothing."""
    if last_day < first_day:
        raise problem(422, "'to' is before 'from'")
    async with transactions.read() as uow:
        rows = await uow.redemptions.cost_rows(first_day=first_day, last_day=last_day)
    return {
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "totals": {
            "redemptions": sum(row.redemptions for row in rows),
            "reversed": sum(row.reversed for row in rows),
            "cost": f"{sum((row.cost for row in rows), Decimal('0.00')):.2f}",
        },
        "by_channel": _totals(rows, "channel"),
        "by_branch": _totals(rows, "branch"),
        "by_vendor": _totals(rows, "vendor_id"),
        "by_service": _totals(rows, "service_code"),
        "by_bearer": [
            {**entry, "bearer_kind": kind}
            for kind in ("channel", "branch")
            for entry in _totals([row for row in rows if row.bearer_kind == kind], "bearer")
        ],
        "rows": [
            {
                "channel": row.channel,
                "branch": row.branch,
                "vendor_id": row.vendor_id,
                "service_code": row.service_code,
                "borne_by": {"kind": row.bearer_kind, "name": row.bearer},
                "redemptions": row.redemptions,
                "reversed": row.reversed,
                "cost": f"{row.cost:.2f}",
            }
            for row in rows
        ],
    }
