"""The three inbound contracts of interfaces.md, as strict frozen models.

Each topic's messages form a union discriminated by `event_type`; decoding a message that is not
one of them raises a `pydantic.ValidationError`, which the consumer turns into a dead letter.
Unknown extra fields are ignored so that a producer may add fields without breaking us.
"""

from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter

from shared.events.values import (
    FROZEN,
    INT32_MAX,
    AgentRole,
    Channel,
    EventId,
    Identifier,
    Money,
    PaymentMode,
    PolicyStatus,
    ProductType,
    Tier,
)


class InboundEvent(BaseModel):
    model_config = FROZEN

    event_id: EventId
    occurred_at: AwareDatetime


# --- pas.policy-events ---------------------------------------------------------------------------

PolicyEventType = Literal[
    "new_business",
    "additional_premium",
    "sum_insured_increase",
    "policyholder_change",
    "supplementary_disclosure",
    "premium_loading",
    "reinstatement",
    "surrender",
    "partial_surrender",
    "lapse",
    "maturity",
    "annuity_payout",
    "survival_benefit_paid",
    "dividend_paid",
    "premium_waiver",
    "reduced_paid_up",
    "cooling_off_cancellation",
    "policy_loan",
    "loan_repaid",
    "termination",
    "beneficiary_change",
    "account_value_update",
    "policy_reconciled",
]
POLICY_EVENT_TYPES: tuple[str, ...] = get_args(PolicyEventType)


class PolicyState(BaseModel):
    """A policy as the core policy admin system holds it after a change."""

    model_config = FROZEN

    policy_no: Identifier
    version: int = Field(ge=1, le=INT32_MAX)
    holder_id: Identifier
    channel: Channel
    branch: Identifier
    agent_id: Identifier | None = None
    status: PolicyStatus
    issued_on: date
    cooling_off_ends_on: date | None = None
    product_type: ProductType
    payment_term_years: int = Field(ge=0, le=100)
    payment_mode: PaymentMode
    modal_premium: Money
    account_value: Money
    annuity_converted_premium: Money
    premium_waived: bool
    paid_up: bool
    loan_outstanding: Money


class PolicyChanged(InboundEvent):
    """Any of the 23 policy event types: each carries the policy's full state after the change.

    `policy_reconciled` is the correction `vip reconcile --publish` sends: the policy admin snapshot's
    state of a policy whose snapshot version is at or above the platform's and whose state differs."""

    event_type: PolicyEventType
    previous_holder_id: Identifier | None = None
    policy: PolicyState


# --- hr.agent-events -----------------------------------------------------------------------------


class AgentProfile(BaseModel):
    model_config = FROZEN

    agent_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    branch: Identifier
    role: AgentRole
    top_performer: bool
    eligible: bool


class AgentUpserted(InboundEvent):
    event_type: Literal["agent_upserted"]
    agent: AgentProfile


class AgentDeparted(InboundEvent):
    event_type: Literal["agent_departed"]
    agent_id: Identifier
    departed_on: date


class AgentDisqualified(InboundEvent):
    event_type: Literal["agent_disqualified"]
    agent_id: Identifier
    reason: str = Field(min_length=1, max_length=1000)


class CustomerContacted(InboundEvent):
    event_type: Literal["customer_contacted"]
    agent_id: Identifier
    customer_id: Identifier
    contacted_at: datetime


AgentEvent = Annotated[
    AgentUpserted | AgentDeparted | AgentDisqualified | CustomerContacted,
    Field(discriminator="event_type"),
]


# --- crm.customer-events -------------------------------------------------------------------------


class CustomerProfile(BaseModel):
    model_config = FROZEN

    customer_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    birthday: date | None = None
    branch: Identifier


class CustomerUpserted(InboundEvent):
    event_type: Literal["customer_upserted"]
    customer: CustomerProfile


class LegacyVipImported(InboundEvent):
    """The customer held `tier` under the legacy standard before the 2015 cutover."""

    event_type: Literal["legacy_vip_imported"]
    customer_id: Identifier
    tier: Tier
    since: date


# --- crm.customer-events: the group program (rules.md section 9) ------------------------------------


class GroupClientProfile(BaseModel):
    model_config = FROZEN

    client_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(min_length=1, max_length=100)
    branch: Identifier
    client_since: date


class GroupClientUpserted(InboundEvent):
    event_type: Literal["group_client_upserted"]
    client: GroupClientProfile


class GroupExperienceReported(InboundEvent):
    """The claims system's figures for one period; a later report for the same period replaces it."""

    event_type: Literal["group_experience_reported"]
    client_id: Identifier
    period_start: date
    period_end: date
    earned_premium: Money
    incurred_claims: Money


CustomerEvent = Annotated[
    CustomerUpserted | LegacyVipImported | GroupClientUpserted | GroupExperienceReported,
    Field(discriminator="event_type"),
]

POLICY_EVENT_ADAPTER: TypeAdapter[PolicyChanged] = TypeAdapter(PolicyChanged)
AGENT_EVENT_ADAPTER: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)
CUSTOMER_EVENT_ADAPTER: TypeAdapter[CustomerEvent] = TypeAdapter(CustomerEvent)
