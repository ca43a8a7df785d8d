"""Builders of assignment's domain values (service persons, policy shares) and of the events it
consumes (tier decisions, HR events), with sensible defaults."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

from services.assignment.domain.assignment import Agent, PolicyShare
from shared.events.inbound import (
    AgentDeparted,
    AgentDisqualified,
    AgentProfile,
    AgentUpserted,
    CustomerContacted,
    CustomerProfile,
    CustomerUpserted,
)
from shared.events.internal import PolicyContribution, TierDecided
from shared.events.values import AgentRole, Channel, Standard, Tier

AGENCY = Channel.AGENCY
BANK = Channel.BANCASSURANCE
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
EMPTY: Mapping[str, int] = MappingProxyType({})
EMPTY_AGENTS: Mapping[str, Agent] = MappingProxyType({})


def agent(
    agent_id: str,
    *,
    channel: Channel = AGENCY,
    role: AgentRole = AgentRole.AGENT,
    top: bool = False,
    eligible: bool = True,
    departed: bool = False,
    disqualified: bool = False,
    branch: str = "GD-SZ",
) -> Agent:
    return Agent(
        agent_id=agent_id,
        name=f"name of {agent_id}",
        channel=channel,
        branch=branch,
        role=role,
        top_performer=top,
        eligible=eligible,
        departed=departed,
        disqualified=disqualified,
    )


def pool(agent_id: str, **kwargs: object) -> Agent:
    return agent(agent_id, role=AgentRole.CS_SPECIALIST, **kwargs)  # type: ignore[arg-type]


def policy(policy_no: str, agent_id: str | None, contribution: str, *, counted: bool = True) -> PolicyShare:
    return PolicyShare(policy_no=policy_no, agent_id=agent_id, contribution=Decimal(contribution), counted=counted)


def by_id(*agents: Agent) -> dict[str, Agent]:
    return {each.agent_id: each for each in agents}


# --- events assignment consumes ---------------------------------------------------------------------


def tier_decision(
    customer_id: str,
    *,
    revision: int,
    tier: Tier | None,
    policies: Sequence[tuple[str | None, str]] = (),
    at: datetime = T0,
    channel: Channel | None = AGENCY,
    standard: Standard = Standard.Y2015,
    premiums: Sequence[str] | None = None,
    policy_branches: Sequence[str] | None = None,
    branch: str | None = None,
) -> TierDecided:
    """`policies`: (service person, points) of each counting policy of the customer; `premiums`: each
    one's legacy standard premium (default: the points); `policy_branches`: each one's branch
    (default GD-SZ); `branch`: the customer's branch as tiering decided it (None: not filled)."""
    return TierDecided(
        event_id=uuid.uuid4().hex, occurred_at=at, correlation_id=uuid.uuid4().hex, customer_id=customer_id,
        revision=revision, tier=tier, previous_tier=None, computed_tier=tier, honorary_tier=None,
        standard=standard, points=Decimal(0), vip_since=None, effective_at=at.date(), serving_channel=channel,
        trigger="new_business", ruleset_version="test", reason="test decision", branch=branch,
        policies=tuple(
            PolicyContribution(
                policy_no=f"P{number}-{customer_id}", channel=channel or AGENCY,
                branch=policy_branches[number - 1] if policy_branches else "GD-SZ", agent_id=agent_id,
                issued_on=at.date(), points=Decimal(points),
                standard_premium=Decimal(premiums[number - 1] if premiums else points), state="counted",
                explanation="",
            )
            for number, (agent_id, points) in enumerate(policies, start=1)
        ),
    )


def agent_upserted(
    agent_id: str,
    *,
    at: datetime = T0 - timedelta(days=30),
    role: AgentRole = AgentRole.AGENT,
    channel: Channel = AGENCY,
    top: bool = False,
    eligible: bool = True,
    name: str | None = None,
    branch: str = "GD-SZ",
) -> AgentUpserted:
    profile = AgentProfile(
        agent_id=agent_id, name=name or f"Name {agent_id}", channel=channel, branch=branch, role=role,
        top_performer=top, eligible=eligible,
    )
    return AgentUpserted(event_id=uuid.uuid4().hex, occurred_at=at, event_type="agent_upserted", agent=profile)


def agent_departed(agent_id: str, *, at: datetime, departed_on: date | None = None) -> AgentDeparted:
    """Departed on the day reported (`at`'s UTC date) unless `departed_on` says otherwise."""
    return AgentDeparted(
        event_id=uuid.uuid4().hex, occurred_at=at, event_type="agent_departed", agent_id=agent_id,
        departed_on=departed_on or at.date(),
    )


def agent_disqualified(agent_id: str, *, at: datetime) -> AgentDisqualified:
    return AgentDisqualified(
        event_id=uuid.uuid4().hex, occurred_at=at, event_type="agent_disqualified", agent_id=agent_id,
        reason="withheld a customer's gift",
    )


def customer_contacted(agent_id: str, customer_id: str, *, contacted_at: datetime) -> CustomerContacted:
    """Reported a day after the contact."""
    return CustomerContacted(
        event_id=uuid.uuid4().hex, occurred_at=contacted_at + timedelta(days=1), event_type="customer_contacted",
        agent_id=agent_id, customer_id=customer_id, contacted_at=contacted_at,
    )


def customer_upserted(
    customer_id: str, *, birthday: date | None, branch: str = "GD-SZ", at: datetime = T0 - timedelta(days=1)
) -> CustomerUpserted:
    """The CRM profile of a customer (name, birthday, branch)."""
    profile = CustomerProfile(customer_id=customer_id, name=f"Name {customer_id}", birthday=birthday, branch=branch)
    return CustomerUpserted(event_id=uuid.uuid4().hex, occurred_at=at, event_type="customer_upserted", customer=profile)
