"""Builders of assignment's domain values (service persons, policy shares) with sensible defaults."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

from services.assignment.domain.assignment import Agent, PolicyShare
from shared.events.values import AgentRole, Channel

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
) -> Agent:
    return Agent(
        agent_id=agent_id,
        name=f"name of {agent_id}",
        channel=channel,
        branch="GD-SZ",
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
