"""The edge of entitlements: the events it reads become frozen domain values here, before any rule
sees them, so a change of a wire contract touches this module and no rule.

Entitlements publishes nothing (`consumers.PUBLISHES_TO` is empty), so there is no outbound builder.
"""

from services.entitlements.domain.customers import (
    PolicyShare,
    Representative,
    RepresentativeChange,
    TierChange,
)
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
    )


def representative_of(contract: RepresentativeContract | None) -> Representative | None:
    if contract is None:
        return None
    return Representative(agent_id=contract.agent_id, name=contract.name, channel=contract.channel)


def representative_change_of(event: RepresentativeChanged) -> RepresentativeChange:
    return RepresentativeChange(
        customer_id=event.customer_id, revision=event.revision, representative=representative_of(event.representative)
    )
