"""The edge of entitlements: the events it reads become frozen domain values here, before any rule
sees them, so a change of a wire contract touches this module and no rule.

The individual program publishes nothing; the group program publishes `GroupFeedbackReported`.
"""

from datetime import datetime

from services.entitlements.domain.customers import (
    PolicyShare,
    Representative,
    RepresentativeChange,
    TierChange,
)
from services.entitlements.domain.group_clients import LevelChange, Manager, ManagerChange
from services.entitlements.domain.group_records import Feedback
from shared.events.group import AccountManagerChanged, GroupFeedbackReported, GroupLevelDecided
from shared.events.ids import derive_event_id
from shared.events.internal import PolicyContribution, RepresentativeChanged, TierDecided
from shared.events.internal import Representative as RepresentativeContract


def policy_share_of(policy: PolicyContribution) -> PolicyShare:
    return PolicyShare(
        channel=policy.channel,
        branch=policy.branch,
        issued_on=policy.issued_on,
        points=policy.points,
        standard_premium=policy.standard_premium,
        state=policy.state,
    )


def tier_change_of(event: TierDecided) -> TierChange:
    return TierChange(
        customer_id=event.customer_id,
        revision=event.revision,
        tier=event.tier,
        computed_tier=event.computed_tier,
        honorary_tier=event.honorary_tier,
        standard=event.standard,
        points=event.points,
        vip_since=event.vip_since,
        serving_channel=event.serving_channel,
        effective_at=event.effective_at,
        policies=tuple(policy_share_of(policy) for policy in event.policies),
        trigger=event.trigger,
        counted_policies=frozenset(p.policy_no for p in event.policies if p.state == "counted"),
        uncounted_policies=frozenset(p.policy_no for p in event.policies if p.state != "counted"),
        branch=event.branch,
        pending_points=event.pending_points,
        pending_from=event.pending_from,
    )


def representative_of(contract: RepresentativeContract | None) -> Representative | None:
    if contract is None:
        return None
    return Representative(agent_id=contract.agent_id, name=contract.name, channel=contract.channel)


def representative_change_of(event: RepresentativeChanged) -> RepresentativeChange:
    return RepresentativeChange(
        customer_id=event.customer_id, revision=event.revision, representative=representative_of(event.representative)
    )


# --- the group program --------------------------------------------------------------------------------


def level_change_of(event: GroupLevelDecided) -> LevelChange:
    return LevelChange(
        client_id=event.client_id, revision=event.revision, level=event.level, evaluated_level=event.evaluated_level,
        approved_level=event.approved_level, score=event.score, scale=event.coefficients.scale,
        loyalty=event.coefficients.loyalty, profit=event.coefficients.profit, evaluated_on=event.evaluated_on,
        effective_at=event.effective_at, branch=event.branch,
    )


def manager_change_of(event: AccountManagerChanged) -> ManagerChange:
    manager = event.manager
    return ManagerChange(
        client_id=event.client_id, revision=event.revision,
        manager=Manager(agent_id=manager.agent_id, name=manager.name, branch=manager.branch) if manager else None,
    )


def feedback_reported(
    client_id: str, feedback: Feedback, *, revision: int, at: datetime, request_id: str
) -> GroupFeedbackReported:
    """Reported from an HTTP command: the id derives from the request's own id, so it is unique."""
    event_id = derive_event_id(request_id, "group_feedback_reported", client_id, revision)
    return GroupFeedbackReported(
        event_id=event_id, occurred_at=at, correlation_id=event_id, client_id=client_id, revision=revision,
        as_of=feedback.as_of, verified_complaints_12_months=feedback.verified_complaints_12_months,
        last_survey_average=feedback.last_survey_average, last_survey_on=feedback.last_survey_on,
    )
