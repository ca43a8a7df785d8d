"""Scoring's handlers: a policy changed, so its holders' points are recomputed from full state.

Every policy event carries the policy's whole state after the change, so one handler serves all 22
event types; the event type is kept as the trigger for explanations and reports. Payouts (annuity,
survival benefit, dividend) therefore never add points: only the state they carry is scored, and the
formula has no payout term.

The business date a customer is scored at never goes backwards: it is the later of the event's local
date, the customer's last scoring date and the last daily run. A late-arriving event can thus never
put back into cooling-off a policy that a daily run (or a later event) already counted.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime

from services.scoring.domain import CustomerScore, score_customer, score_policy
from services.scoring.repository import ScoringUnitOfWork
from shared.events.ids import derive_event_id
from shared.events.inbound import PolicyChanged
from shared.events.internal import CustomerScored, InternalEvent, PolicyContribution

log = logging.getLogger(__name__)

DAILY_RUN_TRIGGER = "daily_run"


@dataclass(frozen=True, slots=True)
class Cause:
    """What made us re-score: the inbound event, or the daily run of a date."""

    cause_id: str
    correlation_id: str
    trigger: str
    occurred_at: datetime


async def on_policy_changed(event: PolicyChanged, uow: ScoringUnitOfWork) -> list[InternalEvent]:
    policy = event.policy
    stored = await uow.policies.stored(policy.policy_no)
    if stored is not None and policy.version <= stored.version:
        await uow.policies.record_stale(event, applied_version=stored.version)
        uow.mark_stale()
        log.debug(
            "stale %s for %s: version %d, %d already applied",
            event.event_type, policy.policy_no, policy.version, stored.version,
        )
        return []
    affected = list(
        dict.fromkeys(
            customer_id
            for customer_id in (policy.holder_id, stored.holder_id if stored else None, event.previous_holder_id)
            if customer_id
        )
    )
    await uow.customers.lock(affected)
    await uow.policies.save(policy, event_type=event.event_type)
    event_day = event.occurred_at.astimezone(uow.ruleset.zone).date()
    last_run = await uow.daily_runs.latest()
    day = max(event_day, last_run) if last_run else event_day
    cause = Cause(
        cause_id=event.event_id,
        correlation_id=event.event_id,
        trigger=event.event_type,
        occurred_at=event.occurred_at,
    )
    return [await rescore(uow, customer_id, as_of=day, cause=cause) for customer_id in affected]


async def rescore(uow: ScoringUnitOfWork, customer_id: str, *, as_of: date, cause: Cause) -> CustomerScored:
    """Score every policy the customer holds now, store it, and build the event that publishes it.

    The caller holds the customer's lock (`uow.customers.lock`).
    """
    last = await uow.customers.scored_as_of(customer_id)
    day = max(as_of, last) if last else as_of
    held = await uow.policies.held_by(customer_id)
    score = score_customer(score_policy(policy, ruleset=uow.ruleset, as_of=day) for policy in held)
    revision = await uow.customers.record_score(
        customer_id, score, as_of=day, trigger=cause.trigger, ruleset_version=uow.ruleset.version
    )
    return customer_scored(
        customer_id=customer_id,
        score=score,
        revision=revision,
        cause=cause,
        as_of=day,
        ruleset_version=uow.ruleset.version,
    )


def customer_scored(
    *,
    customer_id: str,
    score: CustomerScore,
    revision: int,
    cause: Cause,
    as_of: date,
    ruleset_version: str,
) -> CustomerScored:
    return CustomerScored(
        event_id=derive_event_id(cause.cause_id, "customer_scored", customer_id, revision),
        occurred_at=cause.occurred_at,
        correlation_id=cause.correlation_id,
        customer_id=customer_id,
        revision=revision,
        as_of=as_of,
        trigger=cause.trigger,
        ruleset_version=ruleset_version,
        points=score.points,
        standard_premium=score.standard_premium,
        pending_points=score.pending_points,
        serving_channel=score.serving_channel,
        policies=tuple(
            PolicyContribution(
                policy_no=policy.policy_no,
                channel=policy.channel,
                branch=policy.branch,
                agent_id=policy.agent_id,
                issued_on=policy.issued_on,
                points=policy.points,
                standard_premium=policy.standard_premium,
                state=policy.state,
                pending_until=policy.pending_until,
                explanation=policy.explanation,
            )
            for policy in score.policies
        ),
    )
