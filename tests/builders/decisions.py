"""Builders of `TierDecided` (tiering's output), as assignment and entitlements consume it."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.events.internal import PolicyContribution, TierDecided
from shared.events.values import Channel, Standard, Tier
from tests.support import fresh_id

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def tier_decided(
    customer_id: str,
    *,
    revision: int,
    tier: Tier | None,
    effective_at: date = TODAY,
    branch: str = "GD-SZ",
    channel: Channel = Channel.AGENCY,
    points: str = "260000.00",
    honorary_tier: Tier | None = None,
    computed_tier: Tier | None = None,
) -> TierDecided:
    policy = PolicyContribution(
        policy_no=fresh_id("P"),
        channel=channel,
        branch=branch,
        agent_id="A1",
        issued_on=effective_at,
        points=Decimal(points),
        standard_premium=Decimal(points),
        state="counted",
        explanation="1 x N",
    )
    return TierDecided(
        event_id=uuid.uuid4().hex,
        occurred_at=datetime.now(UTC),
        correlation_id=uuid.uuid4().hex,
        customer_id=customer_id,
        revision=revision,
        tier=tier,
        previous_tier=None,
        computed_tier=computed_tier if computed_tier is not None else tier,
        honorary_tier=honorary_tier,
        standard=Standard.Y2015,
        points=Decimal(points),
        vip_since=effective_at if tier else None,
        effective_at=effective_at,
        serving_channel=channel,
        trigger="new_business",
        ruleset_version="individual-2015.1",
        reason="test",
        policies=(policy,),
    )


def with_policies(
    event: TierDecided, *, trigger: str, counted: tuple[str, ...], excluded: tuple[str, ...] = ()
) -> TierDecided:
    """`event` with these policy numbers counted or excluded (a cancelled policy is excluded)."""
    template = event.policies[0]
    policies = tuple(
        template.model_copy(update={"policy_no": number, "state": state})
        for numbers, state in ((counted, "counted"), (excluded, "excluded"))
        for number in numbers
    )
    return event.model_copy(update={"trigger": trigger, "policies": policies})
