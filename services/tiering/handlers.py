"""Tiering's handlers: a new score, a legacy roster entry or a CRM profile re-decides the customer's tier.

Each maps its event to domain values (`mapping.py`), folds them into the customer's state (locked
by `prepare` for the whole batch, or here on first use) and settles the outcome: a decision that
changes what a user sees is stored and returned as a `TierDecided`; the caller commits.

Scores of a large book (at least `coalesce_from_policies` policies, a setting: 100) are decided once per
customer per batch: such a score followed in the same batch by a later one of the same customer is
folded into the state (its legacy standing counts) without a decision; the last one decides against
what was last shown. Smaller books are decided per score, so their history never depends on where a
batch was cut.
"""

import logging
from dataclasses import replace

from services.tiering.domain.customers import apply_legacy_roster, apply_profile, apply_score
from services.tiering.mapping import profile_of, roster_entry_of, score_of, with_feedback, with_scored
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.workflows.customers import settle
from services.tiering.workflows.group_levels import settle as settle_group
from shared.events.group import GroupClientScored, GroupFeedbackReported, GroupLevelDecided
from shared.events.inbound import CustomerUpserted, LegacyVipImported
from shared.events.internal import CustomerScored, InternalEvent

log = logging.getLogger(__name__)


async def on_customer_scored(event: CustomerScored, uow: TieringUnitOfWork) -> list[InternalEvent]:
    """A score whose revision is not above the last applied is stale: recorded, no effect. One of a large
    book with a later score of the customer in the same batch only folds in (the later one decides)."""
    await uow.customers.lock([event.customer_id])
    stored = await uow.customers.get(event.customer_id)
    outcome = apply_score(stored.state, score=score_of(event), revision=event.revision, ruleset=uow.ruleset)
    if outcome.stale:
        uow.mark_stale()
        log.debug(
            "stale score for %s: revision %d, %d already applied",
            event.customer_id,
            event.revision,
            stored.state.score_revision,
        )
        return []
    later_in_batch = event.revision < uow.last_score_in_batch.get(event.customer_id, 0)
    if later_in_batch and len(event.policies) >= uow.coalesce_from_policies:
        unshown = replace(outcome.state, shown=stored.state.shown)
        uow.customers.save_customer(event.customer_id, state=unshown, scored=event, revision=stored.revision)
        return []
    return settle(
        uow,
        stored=stored,
        outcome=outcome,
        scored=event,
        cause_id=event.event_id,
        correlation_id=event.correlation_id,
        occurred_at=event.occurred_at,
    )


async def on_legacy_vip_imported(event: LegacyVipImported, uow: TieringUnitOfWork) -> list[InternalEvent]:
    """The roster sets the standard; the tier itself comes from the latest score, as for anyone."""
    await uow.customers.lock([event.customer_id])
    stored = await uow.customers.get(event.customer_id)
    entry = roster_entry_of(event, zone=uow.ruleset.zone)
    outcome = apply_legacy_roster(stored.state, since=entry.since, as_of=entry.as_of, ruleset=uow.ruleset)
    return settle(
        uow,
        stored=stored,
        outcome=outcome,
        scored=stored.scored,
        cause_id=event.event_id,
        correlation_id=event.event_id,
        occurred_at=event.occurred_at,
    )


async def on_customer_upserted(event: CustomerUpserted, uow: TieringUnitOfWork) -> list[InternalEvent]:
    """The CRM branch becomes the customer's branch; a decision goes out only if the branch shown changes."""
    customer_id = event.customer.customer_id
    await uow.customers.lock([customer_id])
    stored = await uow.customers.get(customer_id)
    profile = profile_of(event, zone=uow.ruleset.zone)
    outcome = apply_profile(stored.state, branch=profile.branch, as_of=profile.as_of, ruleset=uow.ruleset)
    return settle(
        uow,
        stored=stored,
        outcome=outcome,
        scored=stored.scored,
        cause_id=event.event_id,
        correlation_id=event.event_id,
        occurred_at=event.occurred_at,
    )


async def on_group_client_scored(event: GroupClientScored, uow: TieringUnitOfWork) -> list[GroupLevelDecided]:
    """A client's new book: its level does not move until the next evaluation, except that with no
    in-force group policy left it stops being VIP at once. A revision not above the last is stale."""
    await uow.group_clients.lock([event.client_id])
    stored = await uow.group_clients.get(event.client_id)
    if event.revision <= stored.scored_revision:
        uow.mark_stale()
        return []
    return settle_group(
        uow,
        before=stored,
        after=with_scored(stored, event),
        trigger=event.trigger,
        cause_id=event.event_id,
        correlation_id=event.correlation_id,
        occurred_at=event.occurred_at,
        effective_at=event.as_of,
    )


async def on_group_feedback_reported(event: GroupFeedbackReported, uow: TieringUnitOfWork) -> list[GroupLevelDecided]:
    """Kept for the loyalty coefficient of the next evaluation; nothing moves now."""
    await uow.group_clients.lock([event.client_id])
    stored = await uow.group_clients.get(event.client_id)
    if event.revision <= stored.feedback_revision:
        uow.mark_stale()
        return []
    uow.group_clients.save(with_feedback(stored, event))
    return []
