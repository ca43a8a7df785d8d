"""What the call center reads of a customer: their standing and their entitlement list."""

from dataclasses import dataclass
from datetime import date

from services.entitlements.domain.catalog import catalog_from
from services.entitlements.domain.customers import Customer
from services.entitlements.domain.entitlements import Entitlement, Standing, entitlements_for, visible_services
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.refusals import NotFound


def not_seen(customer_id: str) -> NotFound:
    return NotFound(f"customer {customer_id} is not known to the platform")


@dataclass(frozen=True, kw_only=True)
class EntitlementList:
    customer: Customer
    entitlements: tuple[Entitlement, ...]


async def standing_of(uow: EntitlementsUnitOfWork, customer: Customer) -> tuple[Standing, int | None]:
    """The customer's standing and the id of their open period (None without one)."""
    opened = await uow.periods.get(customer.customer_id)
    standing = Standing(tier=customer.tier, period=opened.period if opened else None, branch=customer.branch)
    return standing, opened.period_id if opened else None


async def known_customer(uow: EntitlementsUnitOfWork, customer_id: str) -> Customer:
    """The customer as stored, read without a lock; `NotFound` for one never seen."""
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise not_seen(customer_id)
    return customer


async def entitlement_list(uow: EntitlementsUnitOfWork, *, customer_id: str, as_of: date) -> EntitlementList:
    """Every catalog service, then the branch's approved featured services, with quotas and use."""
    customer = await known_customer(uow, customer_id)
    standing, period_id = await standing_of(uow, customer)
    featured = [f.service for f in await uow.vendors.approved_featured(customer.branch)]
    usage = await uow.redemptions.usage(customer_id, period_id=period_id)
    services = visible_services(catalog=catalog_from(uow.ruleset), featured=featured, standing=standing, as_of=as_of)
    listed = entitlements_for(services=services, standing=standing, usage=usage, as_of=as_of)
    return EntitlementList(customer=customer, entitlements=listed)
