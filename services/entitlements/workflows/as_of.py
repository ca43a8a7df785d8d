"""The call center's look-ups as of a past day (issue 16 item 2): the customer and their entitlement
list as the platform had decided them for that day, from the customer's history, the periods and the
uses as they stood (`domain/as_of.py` says which fact answers for a day and what a correction is).

A path of its own: the look-ups without `as_of` stay the one-statement hot path.
"""

from dataclasses import dataclass
from datetime import date

from services.entitlements.domain.as_of import CustomerAsOf, check_as_of, customer_as_of
from services.entitlements.domain.catalog import catalog_from
from services.entitlements.domain.entitlements import Entitlement, Standing, entitlements_for, visible_services
from services.entitlements.repositories import EntitlementsUnitOfWork
from services.entitlements.workflows.customers import not_seen
from shared.refusals import NotFound


@dataclass(frozen=True, kw_only=True)
class EntitlementsAsOf:
    standing: CustomerAsOf
    entitlements: tuple[Entitlement, ...]


async def customer_on(
    uow: EntitlementsUnitOfWork, *, customer_id: str, as_of: date, today: date, allow_future: bool
) -> CustomerAsOf:
    """The customer as decided for `as_of`; 422 for a day before cutover or after today, 404 when the
    platform did not know them yet on that day."""
    check_as_of(as_of, today=today, ruleset=uow.ruleset, allow_future=allow_future)
    rows = await uow.history.of(customer_id)
    found = customer_as_of(customer_id, rows=rows, day=as_of, ruleset=uow.ruleset)
    if found is None:
        raise not_seen(customer_id) if not rows else not_yet_known(customer_id, as_of=as_of)
    return found


def not_yet_known(customer_id: str, *, as_of: date) -> NotFound:
    return NotFound(f"customer {customer_id} was not yet known to the platform on {as_of.isoformat()}")


async def entitlements_on(
    uow: EntitlementsUnitOfWork, *, customer_id: str, as_of: date, today: date, allow_future: bool
) -> EntitlementsAsOf:
    """The entitlement list as it stood at the end of `as_of`: the tier held that day, the period in
    force that day with the uses counted in it by then, the branch's featured services approved by then."""
    found = await customer_on(uow, customer_id=customer_id, as_of=as_of, today=today, allow_future=allow_future)
    customer = found.customer
    in_force = await uow.history.period_in_force(customer_id, day=as_of)
    standing = Standing(tier=customer.tier, period=in_force[1] if in_force else None, branch=customer.branch)
    zone = uow.ruleset.time_zone
    later = await uow.history.featured_codes_decided_after(branch=customer.branch, day=as_of, zone=zone)
    featured = [f.service for f in await uow.vendors.approved_featured(customer.branch) if f.service.code not in later]
    usage = await uow.history.usage_on(customer_id, period_id=in_force[0] if in_force else None, day=as_of, zone=zone)
    services = visible_services(catalog=catalog_from(uow.ruleset), featured=featured, standing=standing, as_of=as_of)
    listed = entitlements_for(services=services, standing=standing, usage=usage, as_of=as_of)
    return EntitlementsAsOf(standing=found, entitlements=listed)
