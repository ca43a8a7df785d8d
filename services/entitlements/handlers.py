"""Entitlements' handlers: a tier decided or a representative changed.

Each maps its event to a domain value (`mapping`), takes the customer's lock (already held when
`prepare` locked the batch), ignores a stale revision (recorded through `mark_stale`) and saves the
customer. They publish nothing and never commit.
"""

import logging

from services.entitlements import mapping
from services.entitlements.domain.customers import (
    Customer,
    is_stale_representative,
    is_stale_tier,
    with_representative,
    with_tier,
)
from services.entitlements.domain.periods import period_after_tier_change
from services.entitlements.domain.vendors import customer_branch
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.events.internal import InternalEvent, RepresentativeChanged, TierDecided

log = logging.getLogger(__name__)


async def _locked_customer(uow: EntitlementsUnitOfWork, customer_id: str) -> Customer:
    """The customer under their lock; one never seen starts from the stored defaults."""
    await uow.customers.lock([customer_id])
    return await uow.customers.get(customer_id) or Customer(customer_id=customer_id)


async def on_tier_decided(event: TierDecided, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.tier_change_of(event)
    customer = await _locked_customer(uow, change.customer_id)
    if is_stale_tier(customer, change):
        log.debug(
            "stale tier decision %s for %s: revision %s, applied %s",
            event.event_id, change.customer_id, change.revision, customer.tier_revision,
        )
        uow.mark_stale()
        return []
    branch = customer_branch(serving_channel=change.serving_channel, standard=change.standard, policies=change.policies)
    changed = with_tier(customer, change, branch=branch)
    uow.customers.save_customer(changed)
    uow.customers.save_tier_change(changed)
    opened = period_after_tier_change(
        previous_tier=customer.tier, new_tier=change.tier, effective_on=change.effective_at, ruleset=uow.ruleset
    )
    if opened is not None:
        current = await uow.periods.get(change.customer_id)
        if current is not None:
            uow.periods.save_closed(current.period_id, state="replaced")
        uow.periods.save_opened(change.customer_id, opened, opened_by="tier_decided")
    return []


async def on_representative_changed(event: RepresentativeChanged, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.representative_change_of(event)
    customer = await _locked_customer(uow, change.customer_id)
    if is_stale_representative(customer, change):
        uow.mark_stale()
        return []
    uow.customers.save_customer(with_representative(customer, change))
    return []
