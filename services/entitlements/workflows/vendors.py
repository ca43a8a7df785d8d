"""Vendors, contracts and branch featured services (rules.md section 6), as HTTP commands.

HQ customer service (`hq_customer_service`) registers vendors, signs HQ contracts and approves what
branches propose; a branch (`branch_ops`) proposes its own contracts and featured services. Each
command raises a `shared.refusals` refusal with the sentence the caller sees.

`acting_for` is the caller's token branch (None: every branch): a branch-scoped user proposes and
decides only for their branch (`domain.duties.check_acts_for`). A decision is taken by someone other
than the proposer (`check_decider`; the database's CHECK is the backstop) and is one conditional
update of a pending row under its advisory lock: of two concurrent decisions exactly one finds it
pending, the other is refused with 409.
"""

from collections.abc import Collection
from dataclasses import replace

from services.entitlements.domain.catalog import catalog_from
from services.entitlements.domain.duties import check_acts_for, check_decider
from services.entitlements.domain.vendors import Contract, FeaturedService, check_branch_contract
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.refusals import Conflict, Forbidden, Invalid, NotFound


async def add_vendor(uow: EntitlementsUnitOfWork, *, vendor_id: str, name: str, user_id: str) -> None:
    if not await uow.vendors.add_vendor(vendor_id=vendor_id, name=name, by=user_id):
        raise Conflict(f"vendor {vendor_id} already exists")


def check_contract_request(
    *, branch: str | None, reach: Collection[str] | None, roles: Collection[str], acting_for: str | None
) -> None:
    """An HQ contract (no branch) needs HQ customer service; a branch contract branch_ops, and no reach;
    a branch-scoped user signs only for their own branch."""
    if branch is None and "hq_customer_service" not in roles:
        raise Forbidden("an HQ contract (no branch) needs the role hq_customer_service")
    if branch is not None and "branch_ops" not in roles:
        raise Forbidden("a branch contract needs the role branch_ops")
    if branch is not None and reach is not None:
        raise Invalid("reach is for HQ contracts; a branch contract reaches its own branch")
    check_acts_for(acting_for=acting_for, branch=branch, what="a contract")


async def add_contract(uow: EntitlementsUnitOfWork, *, contract: Contract, user_id: str) -> None:
    """An HQ contract is in force at once; a branch contract waits for HQ approval and is refused
    where HQ's reaches or above HQ's unit cost (`check_branch_contract`)."""
    if all(service.code != contract.service_code for service in catalog_from(uow.ruleset)):
        raise NotFound(f"{contract.service_code} is not a catalog service")
    if not await uow.vendors.vendor_exists(contract.vendor_id):
        raise NotFound(f"vendor {contract.vendor_id} is not registered")
    if not contract.is_hq:
        check_branch_contract(proposal=contract, contracts=await uow.vendors.contracts_for(contract.service_code))
    await uow.vendors.add_contract(contract, by=user_id)


def _not_pending(what: str, state: str) -> Conflict:
    return Conflict(f"{what} is {state}, not pending: it takes no more decisions", reason="already_decided")


async def decide_contract(
    uow: EntitlementsUnitOfWork,
    *,
    contract_id: str,
    approve: bool,
    comment: str | None,
    user_id: str,
    acting_for: str | None,
) -> Contract:
    """HQ approval of a branch contract; the branch rules are checked again against today's HQ contracts."""
    await uow.vendors.lock_contract(contract_id)
    found = await uow.vendors.contract_state(contract_id)
    if found is None:
        raise NotFound(f"no contract {contract_id}")
    contract, state, signed_by = found
    what = f"contract {contract_id}"
    check_acts_for(acting_for=acting_for, branch=contract.branch, what=what)
    if state != "pending":
        raise _not_pending(what, state)
    check_decider(proposed_by=signed_by, decided_by=user_id, what=what)
    if approve:
        others = [c for c in await uow.vendors.contracts_for(contract.service_code) if c.contract_id != contract_id]
        check_branch_contract(proposal=contract, contracts=others)
    decided = await uow.vendors.decide_contract(contract_id, approve=approve, by=user_id, comment=comment)
    if decided is None:
        raise _not_pending(what, "decided")
    return contract


async def register_featured(
    uow: EntitlementsUnitOfWork, *, featured: FeaturedService, user_id: str, acting_for: str | None
) -> None:
    """A branch's local service, at its own cost; offered to its VIPs once HQ customer service approves."""
    service = featured.service
    check_acts_for(acting_for=acting_for, branch=service.branch, what="a featured service")
    if service.category == "basic" and service.yearly_quota is not None:
        raise Invalid("a basic service is unlimited: yearly_quota must be null")
    if any(listed.code == service.code for listed in catalog_from(uow.ruleset)):
        raise Conflict(f"{service.code} is a catalog service")
    if featured.vendor_id is not None and not await uow.vendors.vendor_exists(featured.vendor_id):
        raise NotFound(f"vendor {featured.vendor_id} is not registered")
    if not await uow.vendors.add_featured(featured, by=user_id):
        raise Conflict(f"featured service {service.code} already exists")


async def decide_featured(
    uow: EntitlementsUnitOfWork,
    *,
    code: str,
    approve: bool,
    comment: str | None,
    user_id: str,
    acting_for: str | None,
) -> FeaturedService:
    await uow.vendors.lock_featured(code)
    found = await uow.vendors.featured_registration(code)
    if found is None:
        raise NotFound(f"no featured service {code}")
    featured, registered_by = found
    what = f"featured service {code}"
    check_acts_for(acting_for=acting_for, branch=featured.service.branch, what=what)
    if featured.state != "pending":
        raise _not_pending(what, featured.state)
    check_decider(proposed_by=registered_by, decided_by=user_id, what=what)
    if not await uow.vendors.decide_featured(code, approve=approve, by=user_id, comment=comment):
        raise _not_pending(what, "decided")
    return replace(featured, state="approved" if approve else "rejected")
