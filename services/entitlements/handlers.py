"""Entitlements' handlers: a tier decided or a representative changed; and the daily roll-over.

Both events carry full state with a per-customer `revision`; one whose revision is not above the
last applied is stale and has no effect. Tier decisions and representatives are published by two
services, so each keeps its own revision.
"""

import logging
from datetime import date

from services.entitlements.domain import period_after_tier_change, period_rolled_over
from services.entitlements.repository import EntitlementsUnitOfWork, TierChange
from services.entitlements.vendors import customer_branch
from shared.events.internal import InternalEvent, RepresentativeChanged, TierDecided

log = logging.getLogger(__name__)


async def on_tier_decided(event: TierDecided, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    customer = await uow.customers.lock_or_create(event.customer_id)
    if event.revision <= customer.tier_revision:
        log.debug(
            "stale tier decision %s for %s: revision %s, applied %s",
            event.event_id,
            event.customer_id,
            event.revision,
            customer.tier_revision,
        )
        uow.mark_stale()
        return []
    branch = customer_branch(serving_channel=event.serving_channel, standard=event.standard, policies=event.policies)
    await uow.customers.apply_tier(
        event.customer_id,
        TierChange(
            revision=event.revision,
            tier=event.tier,
            computed_tier=event.computed_tier,
            honorary_tier=event.honorary_tier,
            standard=event.standard,
            points=event.points,
            vip_since=event.vip_since,
            serving_channel=event.serving_channel,
            branch=branch or customer.branch,
            effective_at=event.effective_at,
        ),
    )
    opened = period_after_tier_change(
        previous_tier=customer.tier, new_tier=event.tier, effective_on=event.effective_at, ruleset=uow.ruleset
    )
    if opened is not None:
        current = await uow.periods.open_for(event.customer_id)
        if current is not None:
            await uow.periods.close(current.period_id, state="replaced")
        await uow.periods.open(event.customer_id, opened, opened_by="tier_decided")
    return []


async def on_representative_changed(event: RepresentativeChanged, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    customer = await uow.customers.lock_or_create(event.customer_id)
    if event.revision <= customer.representative_revision:
        uow.mark_stale()
        return []
    await uow.customers.apply_representative(
        event.customer_id, revision=event.revision, representative=event.representative
    )
    return []


async def roll_over_due_periods(uow: EntitlementsUnitOfWork, *, as_of: date, limit: int) -> int:
    """Rolls over up to `limit` periods that ended before `as_of`; returns how many were due.

    Each due period is closed as `ended`; the period current on `as_of` by rules.md's roll-over (the
    tier held on the day after the end) is opened in its place, if any.
    """
    due = await uow.periods.due(as_of=as_of, limit=limit)
    if not due:
        return 0
    timelines = await uow.customers.timelines([customer_id for customer_id, _ in due])
    for customer_id, opened in due:
        successor = period_rolled_over(
            period=opened.period, timeline=timelines[customer_id], as_of=as_of, ruleset=uow.ruleset
        )
        await uow.periods.close(opened.period_id, state="ended")
        if successor is not None:
            await uow.periods.open(customer_id, successor, opened_by="roll_over")
    return len(due)
