"""Vendors and contracts (rules.md section 6): HQ customer service registers vendors and signs HQ
contracts; a branch (`branch_ops`) proposes its own contracts, which HQ approves."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.api.dependencies import Transactions
from services.entitlements.domain.vendors import Contract
from services.entitlements.workflows import vendors
from shared.api import PROBLEMS, problems
from shared.auth import Principal, require_roles
from shared.bounds import PathId
from shared.events.values import Identifier, Money

router: APIRouter = APIRouter(prefix="/v1", tags=["vendors and costs"])

HqCustomerService = Annotated[Principal, Depends(require_roles("hq_customer_service"))]
Signer = Annotated[Principal, Depends(require_roles("hq_customer_service", "branch_ops"))]
Reader = Annotated[Principal, Depends(require_roles("hq_customer_service", "branch_ops", "ops"))]

STRICT = ConfigDict(extra="forbid", frozen=True)


class VendorRequest(BaseModel):
    model_config = STRICT
    vendor_id: Identifier
    name: str = Field(min_length=1, max_length=200)


class VendorView(BaseModel):
    vendor_id: str
    name: str


class VendorList(BaseModel):
    vendors: list[VendorView]


class ContractRequest(BaseModel):
    """A branch contract reaches its own branch only: `reach` is for HQ contracts (`branch` null)."""

    model_config = ConfigDict(**STRICT, json_schema_extra={
        "if": {"properties": {"branch": {"type": "string"}}, "required": ["branch"]},
        "then": {"properties": {"reach": {"type": "null"}}},
    })
    service_code: Identifier
    vendor_id: Identifier
    unit_cost: Money
    branch: Identifier | None = Field(default=None, description="null: an HQ contract")
    reach: list[Identifier] | None = Field(default=None, description="HQ contract: branches; null = all")


class Decision(BaseModel):
    model_config = STRICT
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)


class ContractView(BaseModel):
    contract_id: str
    service_code: str
    vendor_id: str
    unit_cost: str
    branch: str | None
    reach: list[str] | None
    state: str


def contract_view(contract: Contract, state: str) -> ContractView:
    return ContractView(
        contract_id=contract.contract_id,
        service_code=contract.service_code,
        vendor_id=contract.vendor_id,
        unit_cost=f"{contract.unit_cost:.2f}",
        branch=contract.branch,
        reach=sorted(contract.reach) if contract.reach is not None else None,
        state=state,
    )


@router.post("/vendors", status_code=status.HTTP_201_CREATED, responses={**PROBLEMS, **problems(409)})
async def add_vendor(body: VendorRequest, principal: HqCustomerService, transactions: Transactions) -> VendorView:
    async with transactions.begin() as uow:
        await vendors.add_vendor(uow, vendor_id=body.vendor_id, name=body.name, user_id=principal.user_id)
    return VendorView(vendor_id=body.vendor_id, name=body.name)


@router.get("/vendors", responses=PROBLEMS)
async def list_vendors(_: Reader, transactions: Transactions) -> VendorList:
    async with transactions.read() as uow:
        return VendorList(vendors=[VendorView(**row) for row in await uow.vendors.list_vendors()])


@router.post("/contracts", status_code=status.HTTP_201_CREATED, responses={**PROBLEMS, **problems(404, 409)})
async def add_contract(body: ContractRequest, principal: Signer, transactions: Transactions) -> ContractView:
    """An HQ contract (no branch; HQ customer service) is in force at once; a branch contract
    (branch_ops) waits for HQ approval and is refused where HQ's reaches or above HQ's unit cost."""
    vendors.check_contract_request(
        branch=body.branch, reach=body.reach, roles=principal.roles, acting_for=principal.branch
    )
    contract = Contract(
        contract_id=f"K{uuid.uuid4().hex[:16]}",
        service_code=body.service_code,
        vendor_id=body.vendor_id,
        unit_cost=body.unit_cost,
        branch=body.branch,
        reach=frozenset(body.reach) if body.reach is not None else None,
        approved=body.branch is None,
    )
    async with transactions.begin() as uow:
        await vendors.add_contract(uow, contract=contract, user_id=principal.user_id)
    return contract_view(contract, "approved" if contract.approved else "pending")


@router.post("/contracts/{contract_id}/decisions", responses={**PROBLEMS, **problems(404, 409)})
async def decide_contract(
    contract_id: PathId, body: Decision, principal: HqCustomerService, transactions: Transactions
) -> ContractView:
    """HQ approval of a branch contract by someone other than its signer (403 `separation_of_duties`);
    the branch rules are checked again against today's HQ contracts; a second decision is 409."""
    approve = body.decision == "approve"
    async with transactions.begin() as uow:
        contract = await vendors.decide_contract(
            uow,
            contract_id=contract_id,
            approve=approve,
            comment=body.comment,
            user_id=principal.user_id,
            acting_for=principal.branch,
        )
    return contract_view(contract, "approved" if approve else "rejected")


class StoredContract(ContractView):
    signed_by: str
    decided_by: str | None
    decision_comment: str | None
    created_at: datetime
    decided_at: datetime | None


class Contracts(BaseModel):
    contracts: list[StoredContract]


@router.get("/contracts", responses=PROBLEMS)
async def list_contracts(_: Reader, transactions: Transactions) -> Contracts:
    """Every contract as stored, oldest first, with who signed and who decided it and when."""
    async with transactions.read() as uow:
        rows = await uow.vendors.contract_rows()
    return Contracts(contracts=[StoredContract(**{**row, "unit_cost": f"{row['unit_cost']:.2f}"}) for row in rows])
