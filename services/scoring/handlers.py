"""Scoring's handlers: a policy changed, so its holders' points are recomputed from full state.

Every policy event carries the policy's whole state after the change, so one handler serves all 22
event types; the event type is kept as the trigger for explanations and reports.
"""

from datetime import date

from services.scoring.domain import CustomerScore, score_customer, score_policy
from services.scoring.repository import ScoringUnitOfWork
from shared.events.ids import derive_event_id
from shared.events.inbound import PolicyChanged
from shared.events.internal import CustomerScored, InternalEvent, PolicyContribution


async def on_policy_changed(event: PolicyChanged, uow: ScoringUnitOfWork) -> list[InternalEvent]:
    policy = event.policy
    stored = await uow.policies.stored(policy.policy_no)
    if stored is not None and policy.version <= stored.version:
        return []
    await uow.policies.save(policy)
    affected = [policy.holder_id]
    for former in (stored.holder_id if stored else None, event.previous_holder_id):
        if former and former not in affected:
            affected.append(former)
    as_of = event.occurred_at.astimezone(uow.ruleset.zone).date()
    published: list[InternalEvent] = []
    for customer_id in affected:
        held = await uow.policies.held_by(customer_id)
        score = score_customer(score_policy(policy, ruleset=uow.ruleset, as_of=as_of) for policy in held)
        revision = await uow.customers.record_score(customer_id, score)
        published.append(
            customer_scored(
                customer_id=customer_id, score=score, revision=revision, cause=event,
                as_of=as_of, ruleset_version=uow.ruleset.version,
            )
        )
    return published


def customer_scored(
    *, customer_id: str, score: CustomerScore, revision: int, cause: PolicyChanged, as_of: date,
    ruleset_version: str,
) -> CustomerScored:
    return CustomerScored(
        event_id=derive_event_id(cause.event_id, "customer_scored", customer_id, revision),
        occurred_at=cause.occurred_at,
        correlation_id=cause.event_id,
        customer_id=customer_id,
        revision=revision,
        as_of=as_of,
        trigger=cause.event_type,
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
