"""The group program's events (rules.md section 9): inbound from the CRM, internal between services.

Inbound, on `crm.customer-events` (interfaces.md): `group_client_upserted`, `group_experience_reported`.
Group-channel policies arrive on `pas.policy-events` like any policy; scoring keeps them apart.

Internal, each keyed by client id and carrying the client's full state with a per-client `revision`
(a consumer ignores a revision not above the last it applied), like the individual program's:

- `vip.group-clients.v1`, `GroupClientScored` (scoring → tiering): profile, annual standard premium,
  in-force group policies, claims experience;
- `vip.group-levels.v1`, `GroupLevelDecided` (tiering → assignment, entitlements): effective,
  evaluated and approved level, score, coefficients;
- `vip.account-managers.v1`, `AccountManagerChanged` (assignment → entitlements): the client's
  account service manager or none;
- `vip.group-feedback.v1`, `GroupFeedbackReported` (entitlements → tiering): verified complaints in
  the last 12 months and the last satisfaction survey.
"""

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter

from shared import topics
from shared.events.inbound import GroupClientProfile, GroupClientUpserted, GroupExperienceReported
from shared.events.values import FROZEN, INT32_MAX, EventId, Identifier, Money, Points

# --- internal ----------------------------------------------------------------------------------------


class GroupEvent(BaseModel):
    """Base of the group program's internal events: keyed by the client, full state, a revision."""

    model_config = FROZEN

    topic: ClassVar[str]

    event_id: EventId
    occurred_at: AwareDatetime
    correlation_id: EventId
    client_id: Identifier
    revision: int = Field(ge=1, le=INT32_MAX)

    @property
    def key(self) -> str:
        return self.client_id


class Experience(BaseModel):
    model_config = FROZEN

    period_start: date
    period_end: date
    earned_premium: Money
    incurred_claims: Money


class GroupClientScored(GroupEvent):
    """What scoring knows of a client: its profile, its in-force group book as standard premium, and
    the claims experience reported (every period, newest first; tiering takes the last four quarters)."""

    topic: ClassVar[str] = topics.GROUP_CLIENTS

    event_type: Literal["group_client_scored"] = "group_client_scored"
    as_of: date
    trigger: str
    ruleset_version: str
    profile: GroupClientProfile | None
    annual_standard_premium: Points
    in_force_policies: int = Field(ge=0)
    experience: tuple[Experience, ...]


class Coefficients(BaseModel):
    model_config = FROZEN

    scale: Decimal
    loyalty: Decimal
    profit: Decimal


class GroupLevelDecided(GroupEvent):
    """The client's effective level (None: a regular client, not VIP) and how it was reached."""

    topic: ClassVar[str] = topics.GROUP_LEVELS

    event_type: Literal["group_level_decided"] = "group_level_decided"
    level: str | None
    evaluated_level: str | None
    approved_level: str | None
    score: Decimal
    coefficients: Coefficients
    evaluated_on: date | None
    effective_at: date
    branch: Identifier | None
    trigger: str
    ruleset_version: str
    reason: str


class AccountManager(BaseModel):
    model_config = FROZEN

    agent_id: Identifier
    name: str
    branch: Identifier


class AccountManagerChanged(GroupEvent):
    topic: ClassVar[str] = topics.ACCOUNT_MANAGERS

    event_type: Literal["account_manager_changed"] = "account_manager_changed"
    manager: AccountManager | None
    reason: str
    effective_at: date


class GroupFeedbackReported(GroupEvent):
    """What the loyalty coefficient adjusts for: verified complaints received in the 12 months before
    `as_of`, and the last satisfaction survey's average (1-5) with its date."""

    topic: ClassVar[str] = topics.GROUP_FEEDBACK

    event_type: Literal["group_feedback_reported"] = "group_feedback_reported"
    as_of: date
    verified_complaints_12_months: int = Field(ge=0)
    last_survey_average: Decimal | None = Field(default=None, ge=1, le=5)
    last_survey_on: date | None = None


GROUP_CLIENT_SCORED_ADAPTER: TypeAdapter[GroupClientScored] = TypeAdapter(GroupClientScored)
GROUP_LEVEL_DECIDED_ADAPTER: TypeAdapter[GroupLevelDecided] = TypeAdapter(GroupLevelDecided)
ACCOUNT_MANAGER_CHANGED_ADAPTER: TypeAdapter[AccountManagerChanged] = TypeAdapter(AccountManagerChanged)
GROUP_FEEDBACK_REPORTED_ADAPTER: TypeAdapter[GroupFeedbackReported] = TypeAdapter(GroupFeedbackReported)

__all__ = ["GroupClientProfile", "GroupClientUpserted", "GroupExperienceReported"]
