"""Scoring's handlers: a policy changed, so its holders' points are recomputed from full state; a
group-channel policy also re-scores its holder's group book, and the CRM's group client events
describe a group client and its claims experience (rules.md section 9).

Every policy event carries the policy's whole state after the change, so one handler serves all 23
event types; the event type is kept as the trigger for explanations and reports. Payouts (annuity,
survival benefit, dividend) therefore never add points: only the state they carry is scored, and the
formula has no payout term. A `policy_reconciled` (from `vip reconcile --publish`) also corrects the
state held at its own version (`domain.policies.is_stale`) and is recorded as a reconciliation.

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
from datetime import date, datetime

from services.scoring.domain.customers import scoring_date
from services.scoring.domain.cutover import customers_to_rescore, version_before_cutover
from services.scoring.domain.policies import is_reconciliation, is_stale
from services.scoring.mapping import cause_of, change_of, inbound_cause, profile_document, reported_experience_of
from services.scoring.repositories import ScoringUnitOfWork
from services.scoring.workflows import rescore, rescore_at_batch_end, rescore_group_client
from shared.db import Publishable
from shared.events.inbound import GroupClientUpserted, GroupExperienceReported, PolicyChanged
from shared.events.values import Channel

log = logging.getLogger(__name__)


async def on_policy_changed(event: PolicyChanged, uow: ScoringUnitOfWork) -> list[Publishable]:
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
    group_clients = affected if Channel.GROUP in (policy.channel, stored.channel if stored else None) else []
    await uow.customers.lock(affected)
    await uow.group_clients.lock(group_clients)
    await uow.policies.load_held_by(affected)
    if not stale:
        uow.policies.save_policy(policy, event_type=change.event_type, before_cutover=before_cutover)
        if is_reconciliation(change):
            uow.policies.record_reconciliation(change, previous_version=stored.version if stored else None)
    elif before_cutover is not None:
        uow.policies.save_before_cutover(before_cutover)
    day = scoring_date(change.occurred_at.astimezone(uow.ruleset.zone).date(), await uow.daily_runs.latest())
    cause = cause_of(change)
    large = [customer_id for customer_id in affected
             if uow.policies.book_size(customer_id) >= uow.coalesce_from_policies]
    rescore_at_batch_end(uow, large, as_of=day, cause=cause)
    published: list[Publishable] = [
        await rescore(uow, customer_id, as_of=day, cause=cause) for customer_id in affected if customer_id not in large
    ]
    for client_id in group_clients:
        scored = await rescore_group_client(uow, client_id, as_of=day, cause=cause)
        published.extend([scored] if scored is not None else [])
    return published


async def on_group_client_upserted(event: GroupClientUpserted, uow: ScoringUnitOfWork) -> list[Publishable]:
    """The CRM describes a client: it is known from now on, with any experience already reported."""
    client_id = event.client.client_id
    await uow.group_clients.lock([client_id])
    scored = await rescore_group_client(
        uow,
        client_id,
        as_of=_local_date(event.occurred_at, uow),
        cause=inbound_cause(event_id=event.event_id, event_type=event.event_type, occurred_at=event.occurred_at),
        profile=profile_document(event),
    )
    return [scored] if scored is not None else []


async def on_group_experience_reported(event: GroupExperienceReported, uow: ScoringUnitOfWork) -> list[Publishable]:
    """A period's claims experience: kept; a known client is re-published with it, an unknown one later."""
    await uow.group_clients.lock([event.client_id])
    uow.group_clients.report_experience(
        event.client_id, reported_experience_of(event), event_id=event.event_id, reported_at=event.occurred_at
    )
    scored = await rescore_group_client(
        uow,
        event.client_id,
        as_of=_local_date(event.occurred_at, uow),
        cause=inbound_cause(event_id=event.event_id, event_type=event.event_type, occurred_at=event.occurred_at),
    )
    if scored is None:
        log.info("experience for group client %s kept until the client is known", event.client_id)
    return [scored] if scored is not None else []


def _local_date(at: datetime, uow: ScoringUnitOfWork) -> date:
    return at.astimezone(uow.group_ruleset.zone).date()
