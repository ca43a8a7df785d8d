"""Entitlements' handlers: a tier decided or a representative changed.

A tier attained opens a value-added period (replacing the open one); a late cooling-off cancellation
that takes away the tier of the open period it granted withdraws that period on the cancellation's
date and reopens the period it had replaced, if that one still runs then (rules.md section 4: the
policy is removed as if never issued). Otherwise nothing opens: basic services follow the tier now
held, and the next tier attained opens a period.

Each maps its event to a domain value (`mapping`), takes the customer's lock (already held when
`prepare` locked the batch), ignores a stale revision (recorded through `mark_stale`) and saves the
customer. They publish nothing and never commit.
"""

import logging

from services.entitlements import mapping
from services.entitlements.domain.customers import (
    Customer,
    TierChange,
    is_stale_representative,
    is_stale_tier,
    with_representative,
    with_tier,
)
from services.entitlements.domain.group_clients import GroupClient, with_level, with_manager
from services.entitlements.domain.periods import is_withdrawn_by, period_after_tier_change, withdrawn
from services.entitlements.domain.vendors import customer_branch
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.events.group import AccountManagerChanged, GroupLevelDecided
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
    branch = change.branch or customer_branch(
        serving_channel=change.serving_channel, standard=change.standard, policies=change.policies
    )
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
        uow.periods.save_opened(
            change.customer_id, opened, opened_by="tier_decided", counted_policies=change.counted_policies
        )
    else:
        await _withdraw_if_granted_by_cancelled_policy(uow, change)
    return []


async def _withdraw_if_granted_by_cancelled_policy(uow: EntitlementsUnitOfWork, change: TierChange) -> None:
    current = await uow.periods.get(change.customer_id)
    if current is None or not is_withdrawn_by(
        trigger=change.trigger,
        period=current.period,
        tier_now=change.tier,
        counted_at_opening=current.counted_policies,
        no_longer_counted=change.uncounted_policies,
    ):
        return
    cancelled_on = change.effective_at
    closed = withdrawn(current.period, cancelled_on=cancelled_on)
    uow.periods.save_withdrawn(change.customer_id, current, end=closed.end, withdrawn_on=cancelled_on)
    replaced = await uow.periods.replaced(change.customer_id)
    if replaced is not None and replaced.period.end >= cancelled_on:
        uow.periods.save_reopened(change.customer_id, replaced)


async def on_representative_changed(event: RepresentativeChanged, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.representative_change_of(event)
    customer = await _locked_customer(uow, change.customer_id)
    if is_stale_representative(customer, change):
        uow.mark_stale()
        return []
    uow.customers.save_customer(with_representative(customer, change))
    return []


# --- the group program (rules.md section 9) ---------------------------------------------------------


async def _locked_client(uow: EntitlementsUnitOfWork, client_id: str) -> GroupClient:
    await uow.group_clients.lock([client_id])
    return await uow.group_clients.get(client_id) or GroupClient(client_id=client_id)


async def on_group_level_decided(event: GroupLevelDecided, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.level_change_of(event)
    client = await _locked_client(uow, change.client_id)
    changed = with_level(client, change)
    if changed is None:
        uow.mark_stale()
        return []
    uow.group_clients.save_client(changed)
    if changed.level != client.level or client.level_revision == 0:
        uow.group_clients.save_move(
            client_id=changed.client_id, level=changed.level, previous=client.level, branch=changed.branch,
            on=change.effective_at,
        )
    return []


async def on_account_manager_changed(event: AccountManagerChanged, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.manager_change_of(event)
    client = await _locked_client(uow, change.client_id)
    changed = with_manager(client, change)
    if changed is None:
        uow.mark_stale()
        return []
    uow.group_clients.save_client(changed)
    return []
