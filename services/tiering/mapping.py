"""The edge of tiering: wire contracts in, frozen domain values out, and back.

The only code that reads a wire contract: a `CustomerScored` becomes a `Score` (`score_of`), a
`LegacyVipImported` a `RosterEntry` (`roster_entry_of`), a `CustomerUpserted` a `Profile`
(`profile_of`), before any rule sees them; a
`TierDecision` goes out as a `TierDecided` (`tier_decided`). A contract change touches this module,
not the rules.

The last `CustomerScored` applied is kept whole (its policies go out with every decision) as the
JSON it was published as; `score_in` reads the `Score` back from that JSON without validating all of
it, `scored_in` parses the whole event only when a decision needs its policies.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.tiering.domain.contributions import PolicyShare
from services.tiering.domain.customers import Profile, RosterEntry
from services.tiering.domain.tiers import Score, TierDecision
from shared.events.ids import derive_event_id
from shared.events.inbound import CustomerUpserted, LegacyVipImported
from shared.events.internal import CUSTOMER_SCORED_ADAPTER, CustomerScored, PolicyContribution, TierDecided
from shared.events.values import Channel


def _share_of(policy: PolicyContribution) -> PolicyShare:
    return PolicyShare(
        policy_no=policy.policy_no,
        channel=policy.channel,
        branch=policy.branch,
        issued_on=policy.issued_on,
        points=policy.points,
        standard_premium=policy.standard_premium,
        state=policy.state,
        pending_until=policy.pending_until,
    )


def score_of(event: CustomerScored) -> Score:
    return Score(
        as_of=event.as_of,
        points=event.points,
        standard_premium=event.standard_premium,
        serving_channel=event.serving_channel,
        trigger=event.trigger,
        policies=tuple(_share_of(policy) for policy in event.policies),
        pending_points=event.pending_points,
        pending_from=event.pending_from,
        legacy_before_cutover=event.legacy_standard_premium_before_cutover,
    )


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _share_in(policy: dict[str, Any]) -> PolicyShare:
    return PolicyShare(
        policy_no=policy["policy_no"],
        channel=Channel(policy["channel"]),
        branch=policy["branch"],
        issued_on=date.fromisoformat(policy["issued_on"]),
        points=Decimal(policy["points"]),
        standard_premium=Decimal(policy["standard_premium"]),
        state=policy["state"],
        pending_until=_optional_date(policy.get("pending_until")),
    )


def score_in(document: dict[str, Any]) -> Score:
    """`score_of` the stored CustomerScored, read from its JSON without validating all of it.

    Documents stored before the optional fields existed read as if scoring had not sent them.
    """
    channel = document["serving_channel"]
    before_cutover = document.get("legacy_standard_premium_before_cutover")
    return Score(
        as_of=date.fromisoformat(document["as_of"]),
        points=Decimal(document["points"]),
        standard_premium=Decimal(document["standard_premium"]),
        serving_channel=Channel(channel) if channel is not None else None,
        trigger=document["trigger"],
        policies=tuple(_share_in(policy) for policy in document.get("policies", ())),
        pending_points=Decimal(document.get("pending_points", "0.00")),
        pending_from=_optional_date(document.get("pending_from")),
        legacy_before_cutover=Decimal(before_cutover) if before_cutover is not None else None,
    )


def scored_in(document: dict[str, Any]) -> CustomerScored:
    """The stored CustomerScored, whole (validated), for the policies a decision carries."""
    return CUSTOMER_SCORED_ADAPTER.validate_python(document)


def scored_document(scored: CustomerScored) -> dict[str, Any]:
    """The CustomerScored as the JSON document it is stored as (what `score_in` and `scored_in` read)."""
    return scored.model_dump(mode="json")


def roster_entry_of(event: LegacyVipImported, *, zone: ZoneInfo) -> RosterEntry:
    """The roster entry as of the day (in the insurer's zone) it was imported."""
    return RosterEntry(since=event.since, as_of=event.occurred_at.astimezone(zone).date())


def profile_of(event: CustomerUpserted, *, zone: ZoneInfo) -> Profile:
    """The CRM profile as of the day (in the insurer's zone) it changed."""
    return Profile(branch=event.customer.branch, as_of=event.occurred_at.astimezone(zone).date())


def tier_decided(
    *,
    customer_id: str,
    decision: TierDecision,
    revision: int,
    scored: CustomerScored | None,
    cause_id: str,
    correlation_id: str,
    occurred_at: datetime,
) -> TierDecided:
    """The decision as published; its id derives from its cause, so a redelivery yields the same event."""
    return TierDecided(
        event_id=derive_event_id(cause_id, "tier_decided", customer_id, revision),
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        customer_id=customer_id,
        revision=revision,
        tier=decision.tier,
        previous_tier=decision.previous_tier,
        computed_tier=decision.computed_tier,
        honorary_tier=decision.honorary_tier,
        standard=decision.standard,
        points=decision.points,
        vip_since=decision.vip_since,
        effective_at=decision.effective_at,
        serving_channel=decision.serving_channel,
        branch=decision.branch,
        pending_points=decision.pending_points,
        pending_from=decision.pending_from,
        trigger=decision.trigger,
        ruleset_version=decision.ruleset_version,
        reason=decision.reason,
        policies=scored.policies if scored is not None else (),
    )
