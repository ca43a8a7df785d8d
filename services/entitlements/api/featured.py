"""Branch featured services: a branch (`branch_ops`) registers its own, HQ customer service decides."""

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.api.dependencies import Transactions
from services.entitlements.api.vendors import STRICT, Decision, HqCustomerService, Reader
from services.entitlements.domain.catalog import Service
from services.entitlements.domain.vendors import FeaturedService
from services.entitlements.workflows import vendors
from shared.api import PROBLEMS, problems
from shared.auth import Principal, require_roles
from shared.bounds import PathId
from shared.events.values import Identifier, Money, Tier

router: APIRouter = APIRouter(prefix="/v1", tags=["vendors and costs"])

BranchOps = Annotated[Principal, Depends(require_roles("branch_ops"))]


class FeaturedRequest(BaseModel):
    """A basic service is unlimited: its `yearly_quota` is null."""

    model_config = ConfigDict(**STRICT, json_schema_extra={
        "if": {"properties": {"category": {"const": "basic"}}, "required": ["category"]},
        "then": {"properties": {"yearly_quota": {"type": "null"}}},
    })
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    branch: Identifier
    category: Literal["basic", "value_added"] = "value_added"
    tiers: list[Tier] = Field(default_factory=lambda: list(Tier), min_length=1)
    yearly_quota: int | None = Field(default=None, ge=1, le=1000)
    vendor_id: Identifier | None = None
    unit_cost: Money = Decimal("0.00")


class FeaturedView(BaseModel):
    code: str
    name: str
    branch: str | None
    category: str
    tiers: list[str]
    yearly_quota: int | None
    vendor_id: str | None
    unit_cost: str
    state: str


class FeaturedList(BaseModel):
    featured_services: list[FeaturedView]


def featured_view(featured: FeaturedService) -> FeaturedView:
    service = featured.service
    return FeaturedView(
        code=service.code,
        name=service.name,
        branch=service.branch,
        category=service.category,
        tiers=sorted(t.value for t in service.tiers),
        yearly_quota=service.yearly_quota,
        vendor_id=featured.vendor_id,
        unit_cost=f"{featured.unit_cost:.2f}",
        state=featured.state,
    )


@router.post("/featured-services", status_code=status.HTTP_201_CREATED, responses={**PROBLEMS, **problems(404, 409)})
async def register_featured(body: FeaturedRequest, principal: BranchOps, transactions: Transactions) -> FeaturedView:
    """A branch's local service, at its own cost; offered to its VIPs once HQ customer service approves."""
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
        await vendors.register_featured(
            uow, featured=featured, user_id=principal.user_id, acting_for=principal.branch
        )
    return featured_view(featured)


@router.post("/featured-services/{code}/decisions", responses={**PROBLEMS, **problems(404, 409)})
async def decide_featured(
    code: PathId, body: Decision, principal: HqCustomerService, transactions: Transactions
) -> FeaturedView:
    """HQ's decision, by someone other than the registrar (403 `separation_of_duties`); a second is 409."""
    async with transactions.begin() as uow:
        decided = await vendors.decide_featured(
            uow,
            code=code,
            approve=body.decision == "approve",
            comment=body.comment,
            user_id=principal.user_id,
            acting_for=principal.branch,
        )
    return featured_view(decided)


@router.get("/featured-services", responses=PROBLEMS)
async def list_featured(_: Reader, transactions: Transactions) -> FeaturedList:
    async with transactions.read() as uow:
        return FeaturedList(featured_services=[featured_view(f) for f in await uow.vendors.all_featured()])
