"""Events the services publish to each other, through their outboxes.

Each carries the customer's full state, not a delta, so a consumer that missed one catches up with
the next and a replay from the start rebuilds everything. `revision` rises by one with every event
a service publishes for a customer: a consumer ignores one whose revision is not above the last it
applied. `correlation_id` is the inbound event id that started the chain, for logs across services.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter

from shared import topics
from shared.events.values import FROZEN, INT32_MAX, Channel, EventId, Identifier, Points, Standard, Tier


class InternalEvent(BaseModel):
    model_config = FROZEN

    topic: ClassVar[str]

    event_id: EventId
    occurred_at: AwareDatetime
    correlation_id: EventId
    customer_id: Identifier
    revision: int = Field(ge=1, le=INT32_MAX)

    @property
    def key(self) -> str:
        return self.customer_id


class PolicyContribution(BaseModel):
    """One policy's share of a customer's points, with the reason it counts or not."""

    model_config = FROZEN

    policy_no: Identifier
    channel: Channel
    branch: Identifier
    agent_id: Identifier | None
    issued_on: date
    points: Points
    standard_premium: Points
    state: Literal["counted", "pending", "excluded"]
    pending_until: date | None = None
    explanation: str


class CustomerScored(InternalEvent):
    """The customer's counted points under both standards, as of `as_of`."""

    topic: ClassVar[str] = topics.CUSTOMER_SCORES

    event_type: Literal["customer_scored"] = "customer_scored"
    as_of: date
    trigger: str
    ruleset_version: str
    points: Points
    standard_premium: Points
    pending_points: Points
    serving_channel: Channel | None
    policies: tuple[PolicyContribution, ...]
    pending_from: date | None = None
    """The first day the earliest pending points count (the day after that policy's cooling-off ends)."""
    legacy_standard_premium_before_cutover: Points | None = None
    """The legacy standard premium of the policies as they stood on the day before cutover (each policy's
    version in force that day, its cooling-off as of that day); None when the customer held none then."""


class TierDecided(InternalEvent):
    """A tier decision: the effective tier and everything needed to explain it."""

    topic: ClassVar[str] = topics.TIER_DECISIONS

    event_type: Literal["tier_decided"] = "tier_decided"
    tier: Tier | None
    previous_tier: Tier | None
    computed_tier: Tier | None
    honorary_tier: Tier | None
    standard: Standard
    points: Points
    vip_since: date | None
    effective_at: date
    serving_channel: Channel | None
    trigger: str
    ruleset_version: str
    reason: str
    policies: tuple[PolicyContribution, ...]
    branch: Identifier | None = None
    """The customer's branch (rules.md section 4): the CRM profile's, else the highest-contribution
    policy's; for an honorary VIP without a counting policy, the branch that filed the application."""
    pending_points: Points = Decimal("0.00")
    """Points waiting for a cooling-off to end, and the day the earliest of them count."""
    pending_from: date | None = None


class Representative(BaseModel):
    model_config = FROZEN

    agent_id: Identifier
    name: str
    channel: Channel


class RepresentativeChanged(InternalEvent):
    """The customer's dedicated service representative, or none when the assignment ended."""

    topic: ClassVar[str] = topics.REPRESENTATIVES

    event_type: Literal["representative_changed"] = "representative_changed"
    representative: Representative | None
    reason: str
    effective_at: date


CUSTOMER_SCORED_ADAPTER: TypeAdapter[CustomerScored] = TypeAdapter(CustomerScored)
TIER_DECIDED_ADAPTER: TypeAdapter[TierDecided] = TypeAdapter(TierDecided)
REPRESENTATIVE_CHANGED_ADAPTER: TypeAdapter[RepresentativeChanged] = TypeAdapter(RepresentativeChanged)

AnyInternalEvent = Annotated[
    CustomerScored | TierDecided | RepresentativeChanged, Field(discriminator="event_type")
]
