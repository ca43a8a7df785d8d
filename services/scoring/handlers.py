"""Scoring's handlers: a policy changed, so its holders' points are recomputed from full state.

Every policy event carries the policy's whole state after the change, so one handler serves all 23
event types; the event type is kept as the trigger for explanations and reports. Payouts (annuity,
survival benefit, dividend) therefore never add points: only the state they carry is scored, and the
formula has no payout term. A `policy_reconciled` (from `vip reconcile --publish`) also corrects the
state held at its own version (`domain.policies.is_stale`) and is recorded as a reconciliation.

The business date a customer is scored at never goes backwards: it is the later of the event's local
date, the customer's last scoring date and the last daily run. A late-arriving event can thus never
put back into cooling-off a policy that a daily run (or a later event) already counted.
"""

import logging

from services.scoring.domain.customers import scoring_date
from services.scoring.domain.policies import affected_customers, is_reconciliation, is_stale
from services.scoring.mapping import cause_of, change_of
from services.scoring.repositories import ScoringUnitOfWork
from services.scoring.workflows import rescore
from shared.events.inbound import PolicyChanged
from shared.events.internal import InternalEvent

log = logging.getLogger(__name__)


async def on_policy_changed(event: PolicyChanged, uow: ScoringUnitOfWork) -> list[InternalEvent]:
    change = change_of(event)
    policy = change.policy
    await uow.policies.lock([policy.policy_no])
    stored = await uow.policies.get(policy.policy_no)
    if stored is not None and is_stale(change, stored=stored):
        uow.policies.record_stale(
            event_id=change.event_id,
            event_type=change.event_type,
            policy=policy,
            applied_version=stored.version,
            occurred_at=change.occurred_at,
        )
        uow.mark_stale()
        log.debug(
            "stale %s for %s: version %d, %d already applied",
            change.event_type, policy.policy_no, policy.version, stored.version,
        )
        return []
    affected = affected_customers(change, stored=stored)
    await uow.customers.lock(affected)
    await uow.policies.load_held_by(affected)
    uow.policies.save_policy(policy, event_type=change.event_type)
    if is_reconciliation(change):
        uow.policies.record_reconciliation(change, previous_version=stored.version if stored else None)
    day = scoring_date(change.occurred_at.astimezone(uow.ruleset.zone).date(), await uow.daily_runs.latest())
    cause = cause_of(change)
    return [await rescore(uow, customer_id, as_of=day, cause=cause) for customer_id in affected]
