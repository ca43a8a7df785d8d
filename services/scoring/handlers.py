"""Scoring's handlers: a policy changed, so its holders' points are recomputed from full state.

Every policy event carries the policy's whole state after the change, so one handler serves all 22
event types; the event type is kept as the trigger for explanations and reports. Payouts (annuity,
survival benefit, dividend) therefore never add points: only the state they carry is scored, and the
formula has no payout term.

The business date a customer is scored at never goes backwards: it is the later of the event's local
date, the customer's last scoring date and the last daily run. A late-arriving event can thus never
put back into cooling-off a policy that a daily run (or a later event) already counted.

A holder of a large book (`coalesce_from_policies`, a setting: 100) is re-scored once per batch, after
its last event (`workflows.rescore_at_batch_end`): a holder of 2,000 policies whose events arrive
together is scored a few times, not 2,000 times over 2,000 policies, and publishes one `CustomerScored`
per batch with the last event's trigger. Any other holder is re-scored per event, as before: what
downstream decides from the intermediate scores (the representative chosen when a customer first
becomes VIP) then never depends on where a batch was cut, so a redelivery after a crash ends the same
(the fault suite's oracle). For a large book it may: its policies arrive on every partition anyway.

Stale events: an event whose version is not above the applied one is stale for the current state: it
is recorded (`stale_policy_events`, the stale metric) and the current state ignores it. It may still
be the policy's version in force on the day before cutover that had not arrived yet (dated before
cutover, a higher version than the one kept for that day): then, and only then, it replaces the
pre-cutover version and re-scores the holders it names, so legacy standing never depends on arrival
order (`domain.cutover`).
"""

import logging

from services.scoring.domain.customers import scoring_date
from services.scoring.domain.cutover import customers_to_rescore, version_before_cutover
from services.scoring.domain.policies import is_stale
from services.scoring.mapping import cause_of, change_of
from services.scoring.repositories import ScoringUnitOfWork
from services.scoring.workflows import rescore, rescore_at_batch_end
from shared.events.inbound import PolicyChanged
from shared.events.internal import InternalEvent

log = logging.getLogger(__name__)


async def on_policy_changed(event: PolicyChanged, uow: ScoringUnitOfWork) -> list[InternalEvent]:
    change = change_of(event)
    policy = change.policy
    await uow.policies.lock([policy.policy_no])
    stored = await uow.policies.get(policy.policy_no)
    kept = await uow.policies.before_cutover(policy.policy_no)
    before_cutover = version_before_cutover(change, kept=kept, ruleset=uow.ruleset)
    affected = customers_to_rescore(change, stored=stored, kept=kept, ruleset=uow.ruleset)
    stale = stored is not None and is_stale(change, stored=stored)
    if stale and stored is not None:
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
        if not affected:
            return []
    await uow.customers.lock(affected)
    await uow.policies.load_held_by(affected)
    if not stale:
        uow.policies.save_policy(policy, event_type=change.event_type, before_cutover=before_cutover)
    elif before_cutover is not None:
        uow.policies.save_before_cutover(before_cutover)
    day = scoring_date(change.occurred_at.astimezone(uow.ruleset.zone).date(), await uow.daily_runs.latest())
    cause = cause_of(change)
    large = [customer_id for customer_id in affected
             if uow.policies.book_size(customer_id) >= uow.coalesce_from_policies]
    rescore_at_batch_end(uow, large, as_of=day, cause=cause)
    return [await rescore(uow, customer_id, as_of=day, cause=cause) for customer_id in affected
            if customer_id not in large]
