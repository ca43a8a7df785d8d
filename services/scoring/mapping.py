"""The edge of scoring: wire contracts in, frozen domain values out, and back.

The only module that reads a `pas.policy-events` message or builds a `CustomerScored`. It also owns
the two JSON documents scoring stores: the policy's state (`policies.state`, the `PolicyState` the
last applied event carried, so it is written and read through that contract) and a policy's score
as stored and served (`customers.policies`, money as strings). A contract change touches this
module, never the rules.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.scoring.domain.customers import DAILY_RUN_TRIGGER, Cause, CustomerScore
from services.scoring.domain.group import GroupBook, ReportedExperience
from services.scoring.domain.points import PolicyScore
from services.scoring.domain.policies import Policy, PolicyChange
from shared.events.group import Experience, GroupClientProfile, GroupClientScored
from shared.events.ids import derive_event_id
from shared.events.inbound import GroupClientUpserted, GroupExperienceReported, PolicyChanged, PolicyState
from shared.events.internal import CustomerScored, PolicyContribution


def policy_of(state: PolicyState) -> Policy:
    return Policy(
        policy_no=state.policy_no,
        version=state.version,
        holder_id=state.holder_id,
        channel=state.channel,
        branch=state.branch,
        agent_id=state.agent_id,
        status=state.status,
        issued_on=state.issued_on,
        cooling_off_ends_on=state.cooling_off_ends_on,
        product_type=state.product_type,
        payment_term_years=state.payment_term_years,
        payment_mode=state.payment_mode,
        modal_premium=state.modal_premium,
        account_value=state.account_value,
        annuity_converted_premium=state.annuity_converted_premium,
        premium_waived=state.premium_waived,
        paid_up=state.paid_up,
        loan_outstanding=state.loan_outstanding,
    )


def change_of(event: PolicyChanged) -> PolicyChange:
    return PolicyChange(
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        previous_holder_id=event.previous_holder_id,
        policy=policy_of(event.policy),
    )


def cause_of(change: PolicyChange) -> Cause:
    """An event re-scores under its own id, which is also the correlation id of what it publishes."""
    return Cause(
        cause_id=change.event_id,
        correlation_id=change.event_id,
        trigger=change.event_type,
        occurred_at=change.occurred_at,
    )


def daily_run_cause(*, as_of: date, started_at: datetime) -> Cause:
    """The daily run of a date: the same ids whenever it runs, so a re-run re-derives the same events."""
    return Cause(
        cause_id=f"daily_run/{as_of.isoformat()}",
        correlation_id=derive_event_id(DAILY_RUN_TRIGGER, as_of.isoformat()),
        trigger=DAILY_RUN_TRIGGER,
        occurred_at=started_at,
    )


def policy_from_document(document: Mapping[str, Any]) -> Policy:
    """The stored `policies.state` JSON (a `PolicyState` as the last applied event carried it)."""
    return policy_of(PolicyState.model_validate(document))


def policy_document(policy: Policy) -> dict[str, Any]:
    """`policies.state`: the policy as its `PolicyState` JSON, exactly as the event carried it.

    Written field by field rather than through `PolicyState.model_validate(...).model_dump(mode="json")`:
    the values come from an event already validated at the edge, and the round trip (eight money
    validators and a serialisation per event) was about a fourteenth of scoring's CPU per event in the
    pipeline bench. `test_rules_points_properties` holds it equal to the round trip for any policy."""
    return {
        "policy_no": policy.policy_no,
        "version": policy.version,
        "holder_id": policy.holder_id,
        "channel": policy.channel.value,
        "branch": policy.branch,
        "agent_id": policy.agent_id,
        "status": policy.status.value,
        "issued_on": policy.issued_on.isoformat(),
        "cooling_off_ends_on": policy.cooling_off_ends_on.isoformat() if policy.cooling_off_ends_on else None,
        "product_type": policy.product_type.value,
        "payment_term_years": policy.payment_term_years,
        "payment_mode": policy.payment_mode.value,
        "modal_premium": f"{policy.modal_premium:.2f}",
        "account_value": f"{policy.account_value:.2f}",
        "annuity_converted_premium": f"{policy.annuity_converted_premium:.2f}",
        "premium_waived": policy.premium_waived,
        "paid_up": policy.paid_up,
        "loan_outstanding": f"{policy.loan_outstanding:.2f}",
    }


def policy_score_document(score: PolicyScore) -> dict[str, Any]:
    """A policy's contribution as stored and served: every figure of its formula, money as strings."""
    breakdown = score.breakdown
    return {
        "policy_no": score.policy_no,
        "channel": score.channel.value,
        "branch": score.branch,
        "agent_id": score.agent_id,
        "issued_on": score.issued_on.isoformat(),
        "state": score.state,
        "verdict": score.verdict,
        "formula": breakdown.formula if breakdown else None,
        "factor": f"{breakdown.factor.normalize():f}" if breakdown else None,
        "base": breakdown.base if breakdown else None,
        "base_amount": f"{breakdown.base_amount:.2f}" if breakdown else None,
        "legacy_factor": f"{breakdown.legacy_factor.normalize():f}" if breakdown else None,
        "points": f"{score.points:.2f}",
        "standard_premium": f"{score.standard_premium:.2f}",
        "pending_points": f"{score.pending_points:.2f}",
        "pending_until": score.pending_until.isoformat() if score.pending_until else None,
        "counts_from": score.counts_from.isoformat() if score.counts_from else None,
        "explanation": score.explanation,
    }


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
        pending_from=score.next_pending_date,
        legacy_standard_premium_before_cutover=score.legacy_standard_premium_before_cutover,
        # Built without validation: every value comes from scoring's own frozen scores, already in the
        # contract's types and bounds, and a customer of many policies paid a validation per policy per
        # event (a fifth of scoring's CPU per event in the pipeline bench). The event itself is validated.
        policies=tuple(
            PolicyContribution.model_construct(
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


# --- the group program (rules.md section 9) -----------------------------------------------------------


def reported_experience_of(event: GroupExperienceReported) -> ReportedExperience:
    return ReportedExperience(
        period_start=event.period_start,
        period_end=event.period_end,
        earned_premium=event.earned_premium,
        incurred_claims=event.incurred_claims,
    )


def profile_document(event: GroupClientUpserted) -> dict[str, Any]:
    """`group_clients.profile`: the profile exactly as the CRM event carried it."""
    return event.client.model_dump(mode="json")


def inbound_cause(*, event_id: str, event_type: str, occurred_at: datetime) -> Cause:
    return Cause(cause_id=event_id, correlation_id=event_id, trigger=event_type, occurred_at=occurred_at)


def group_client_scored(
    *,
    client_id: str,
    revision: int,
    profile: Mapping[str, Any] | None,
    book: GroupBook,
    experience: tuple[ReportedExperience, ...],
    cause: Cause,
    as_of: date,
    ruleset_version: str,
) -> GroupClientScored:
    return GroupClientScored(
        event_id=derive_event_id(cause.cause_id, "group_client_scored", client_id, revision),
        occurred_at=cause.occurred_at,
        correlation_id=cause.correlation_id,
        client_id=client_id,
        revision=revision,
        as_of=as_of,
        trigger=cause.trigger,
        ruleset_version=ruleset_version,
        profile=GroupClientProfile.model_validate(profile) if profile is not None else None,
        annual_standard_premium=book.annual_standard_premium,
        in_force_policies=book.in_force_policies,
        experience=tuple(
            Experience(
                period_start=period.period_start,
                period_end=period.period_end,
                earned_premium=period.earned_premium,
                incurred_claims=period.incurred_claims,
            )
            for period in experience
        ),
    )
