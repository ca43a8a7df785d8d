"""Tiering's handlers: a new score or a legacy roster entry re-decides the customer's tier.

Each decision that changes what a user sees is stored in the history and published as a
`TierDecided` with the customer's next revision; one that changes nothing visible is neither.
"""

import logging
from datetime import date, datetime, time

from services.tiering.domain import (
    Honorary,
    Outcome,
    TierDecision,
    apply_daily_run,
    apply_honorary,
    apply_legacy_roster,
    apply_score,
)
from services.tiering.repository import StoredCustomer, TieringUnitOfWork, score_of
from shared.events.ids import derive_event_id
from shared.events.inbound import LegacyVipImported
from shared.events.internal import CustomerScored, InternalEvent, TierDecided

log = logging.getLogger(__name__)


async def on_customer_scored(event: CustomerScored, uow: TieringUnitOfWork) -> list[InternalEvent]:
    stored = await uow.customers.lock(event.customer_id)
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
    return await settle(
        uow,
        stored,
        outcome,
        scored=event,
        cause_id=event.event_id,
        correlation_id=event.correlation_id,
        occurred_at=event.occurred_at,
    )


async def on_legacy_vip_imported(event: LegacyVipImported, uow: TieringUnitOfWork) -> list[InternalEvent]:
    """The roster sets the standard; the tier itself comes from the latest score, as for anyone."""
    stored = await uow.customers.lock(event.customer_id)
    as_of = event.occurred_at.astimezone(uow.ruleset.zone).date()
    outcome = apply_legacy_roster(stored.state, since=event.since, as_of=as_of, ruleset=uow.ruleset)
    return await settle(
        uow,
        stored,
        outcome,
        scored=stored.scored,
        cause_id=event.event_id,
        correlation_id=event.event_id,
        occurred_at=event.occurred_at,
    )


async def set_honorary(
    uow: TieringUnitOfWork,
    *,
    customer_id: str,
    honorary: Honorary | None,
    as_of: date,
    cause_id: str,
    occurred_at: datetime,
) -> list[InternalEvent]:
    """Grant (or, with None, revoke) an honorary tier: for the honorary approval workflow to call.

    The caller publishes what it returns through `uow.publish`.
    """
    stored = await uow.customers.lock(customer_id)
    outcome = apply_honorary(stored.state, honorary=honorary, as_of=as_of, ruleset=uow.ruleset)
    return await settle(
        uow,
        stored,
        outcome,
        scored=stored.scored,
        cause_id=cause_id,
        correlation_id=cause_id,
        occurred_at=occurred_at,
    )


async def run_daily(uow: TieringUnitOfWork, *, as_of: date, limit: int) -> tuple[int, int]:
    """One batch of the daily run: (customers looked at, decisions published). Publishes via `uow`."""
    due = await uow.customers.due_on_or_before(as_of, limit=limit)
    await uow.customers.lock_many(due)
    occurred_at = datetime.combine(as_of, time.min, tzinfo=uow.ruleset.zone)
    changed = 0
    for customer_id in due:
        stored = await uow.customers.lock(customer_id)
        outcome = apply_daily_run(stored.state, as_of=as_of, ruleset=uow.ruleset)
        cause = derive_event_id("daily_run", as_of.isoformat(), customer_id)
        published = await settle(
            uow,
            stored,
            outcome,
            scored=stored.scored,
            cause_id=cause,
            correlation_id=cause,
            occurred_at=occurred_at,
        )
        uow.publish(published)
        changed += len(published)
    return len(due), changed


async def settle(
    uow: TieringUnitOfWork,
    stored: StoredCustomer,
    outcome: Outcome,
    *,
    scored: CustomerScored | None,
    cause_id: str,
    correlation_id: str,
    occurred_at: datetime,
) -> list[InternalEvent]:
    """Store the new state; a visible change also goes into the history and out as `TierDecided`."""
    revision = stored.revision
    published: list[InternalEvent] = []
    if outcome.decision is not None:
        revision += 1
        event = tier_decided(
            customer_id=stored.customer_id,
            decision=outcome.decision,
            revision=revision,
            scored=scored,
            cause_id=cause_id,
            correlation_id=correlation_id,
            occurred_at=occurred_at,
        )
        await uow.decisions.record(
            stored.customer_id,
            revision=revision,
            event_id=event.event_id,
            correlation_id=correlation_id,
            decision=outcome.decision,
        )
        published.append(event)
    await uow.customers.save(stored.customer_id, state=outcome.state, scored=scored, revision=revision)
    return published


def tier_decided(
    *,
    customer_id: str,
    decision: TierDecision,
    revision: int,
    scored: CustomerScored | None,
    cause_id: str,
    correlation_id: str,
    occurred_at: datetime,
) -> TierDecided:
    return TierDecided(
        event_id=derive_event_id(cause_id, "tier_decided", customer_id, revision),
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        customer_id=customer_id,
        revision=revision,
        tier=decision.tier,
        previous_tier=decision.previous_tier,
        computed_tier=decision.computed_tier,
        honorary_tier=decision.honorary_tier,
        standard=decision.standard,
        points=decision.points,
        vip_since=decision.vip_since,
        effective_at=decision.effective_at,
        serving_channel=decision.serving_channel,
        trigger=decision.trigger,
        ruleset_version=decision.ruleset_version,
        reason=decision.reason,
        policies=scored.policies if scored is not None else (),
    )
