"""What changes a customer's tier outside a score: what handlers and commands share (`settle`), an
honorary grant or revocation (`set_honorary`), and the daily run's lapse of honorary tiers.

Each decision that changes what a user sees is stored in the history and published as a
`TierDecided` with the customer's next revision; one that changes nothing visible is neither.
"""

from datetime import date, datetime, time

from services.tiering.domain.customers import Honorary, Outcome, apply_daily_run, apply_honorary
from services.tiering.mapping import tier_decided
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.repositories.customers import StoredCustomer
from shared.daily_run import ChunkDone, DailyRun
from shared.events.ids import derive_event_id
from shared.events.internal import CustomerScored, InternalEvent


def settle(
    uow: TieringUnitOfWork,
    *,
    stored: StoredCustomer,
    outcome: Outcome,
    scored: CustomerScored | None,
    cause_id: str,
    correlation_id: str,
    occurred_at: datetime,
) -> list[InternalEvent]:
    """Store the new state; a visible change also goes into the history and out as `TierDecided`.

    The customer must be locked: `revision` rises by one per decision published, never otherwise.
    """
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
        uow.decisions.save_decision(
            stored.customer_id,
            revision=revision,
            event_id=event.event_id,
            correlation_id=correlation_id,
            decision=outcome.decision,
        )
        published.append(event)
    uow.customers.save_customer(stored.customer_id, state=outcome.state, scored=scored, revision=revision)
    return published


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
    await uow.customers.lock([customer_id])
    stored = await uow.customers.get(customer_id)
    outcome = apply_honorary(stored.state, honorary=honorary, as_of=as_of, ruleset=uow.ruleset)
    return settle(
        uow,
        stored=stored,
        outcome=outcome,
        scored=stored.scored,
        cause_id=cause_id,
        correlation_id=cause_id,
        occurred_at=occurred_at,
    )


async def lapse_honorary_tiers(uow: TieringUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """A daily-run chunk: customers whose honorary tier lapses by `run.as_of` are re-decided (trigger
    `daily_run`). Due customers are found through `next_due_on`, in customer-id order after `after`,
    then locked and read again: one changed meanwhile is re-decided from what it is now."""
    due = await uow.customers.due(as_of=run.as_of, after=after, limit=limit)
    await uow.customers.lock(due)
    occurred_at = datetime.combine(run.as_of, time.min, tzinfo=uow.ruleset.zone)
    changed = 0
    for customer_id in due:
        stored = await uow.customers.get(customer_id)
        outcome = apply_daily_run(stored.state, as_of=run.as_of, ruleset=uow.ruleset)
        cause = derive_event_id("daily_run", run.as_of.isoformat(), customer_id)
        published = settle(
            uow,
            stored=stored,
            outcome=outcome,
            scored=stored.scored,
            cause_id=cause,
            correlation_id=cause,
            occurred_at=occurred_at,
        )
        uow.publish(published)
        changed += len(published)
    return ChunkDone(looked_at=len(due), changed=changed, last_key=due[-1] if due else "")
