"""The customer as entitlements keeps them: the last tier decision and representative applied.

Tier decisions (from tiering) and representatives (from assignment) carry full state with a
per-customer `revision` each; one whose revision is not above the last applied is stale and has no
effect. The two publishers keep their own revisions, so the customer keeps both.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from shared.events.values import Channel, Standard, Tier


@dataclass(frozen=True, kw_only=True)
class Representative:
    agent_id: str
    name: str
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class PolicyShare:
    """One policy's share of the customer's points, as the branch rule reads it."""

    channel: Channel
    branch: str
    issued_on: date
    points: Decimal
    standard_premium: Decimal
    state: Literal["counted", "pending", "excluded"]


@dataclass(frozen=True, kw_only=True)
class TierChange:
    """A tier decision: the customer's standing from `effective_at` on, at `revision`."""

    customer_id: str
    revision: int
    tier: Tier | None
    computed_tier: Tier | None
    honorary_tier: Tier | None
    standard: Standard
    points: Decimal
    vip_since: date | None
    serving_channel: Channel | None
    effective_at: date
    policies: tuple[PolicyShare, ...]
    trigger: str = ""
    counted_policies: frozenset[str] = frozenset()
    """The numbers of the policies counting in this decision; the others are `uncounted_policies`."""
    uncounted_policies: frozenset[str] = frozenset()
    branch: str | None = None
    """The customer's branch as tiering decided it (CRM profile, else the top policy's, else the
    filing branch of an honorary VIP); None from a decision made before tiering sent it."""
    pending_points: Decimal = Decimal("0.00")
    pending_from: date | None = None


@dataclass(frozen=True, kw_only=True)
class RepresentativeChange:
    customer_id: str
    revision: int
    representative: Representative | None


@dataclass(frozen=True, kw_only=True)
class Customer:
    """Every stored fact of a customer; `tier_revision`/`representative_revision` 0 before the first."""

    customer_id: str
    tier_revision: int = 0
    tier: Tier | None = None
    computed_tier: Tier | None = None
    honorary_tier: Tier | None = None
    standard: Standard = Standard.Y2015
    points: Decimal = Decimal("0")
    vip_since: date | None = None
    serving_channel: str | None = None
    branch: str | None = None
    tier_effective_at: date | None = None
    pending_points: Decimal = Decimal("0.00")
    """Points waiting for a cooling-off to end, counting from `pending_from` (for the call center)."""
    pending_from: date | None = None
    representative_revision: int = 0
    representative: Representative | None = None


def is_stale_tier(customer: Customer, change: TierChange) -> bool:
    return change.revision <= customer.tier_revision


def is_stale_representative(customer: Customer, change: RepresentativeChange) -> bool:
    return change.revision <= customer.representative_revision


def with_tier(customer: Customer, change: TierChange, *, branch: str | None) -> Customer:
    """The customer after `change`; `branch` None keeps the branch already known."""
    return replace(
        customer,
        tier_revision=change.revision,
        tier=change.tier,
        computed_tier=change.computed_tier,
        honorary_tier=change.honorary_tier,
        standard=change.standard,
        points=change.points,
        vip_since=change.vip_since,
        serving_channel=None if change.serving_channel is None else str(change.serving_channel),
        branch=branch or customer.branch,
        tier_effective_at=change.effective_at,
        pending_points=change.pending_points,
        pending_from=change.pending_from,
    )


def with_representative(customer: Customer, change: RepresentativeChange) -> Customer:
    return replace(customer, representative_revision=change.revision, representative=change.representative)
