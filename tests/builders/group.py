"""Builders of the group program's internal events as the downstream services consume them
(`GroupLevelDecided` from tiering, `AccountManagerChanged` from assignment), with sensible defaults,
and of group-channel service staff profiles."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shared.events.group import AccountManager, AccountManagerChanged, Coefficients, GroupLevelDecided
from shared.events.inbound import AgentProfile, AgentUpserted
from shared.events.values import AgentRole, Channel

G0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def level_decided(
    client_id: str,
    *,
    revision: int,
    level: str | None,
    branch: str | None = "GD-SZ",
    at: datetime = G0,
    score: str = "1.5000",
) -> GroupLevelDecided:
    return GroupLevelDecided(
        event_id=uuid.uuid4().hex, occurred_at=at, correlation_id=uuid.uuid4().hex, client_id=client_id,
        revision=revision, level=level, evaluated_level=level, approved_level=None, score=Decimal(score),
        coefficients=Coefficients(scale=Decimal("1.2"), loyalty=Decimal("1.25"), profit=Decimal("1.0")),
        evaluated_on=at.date(), effective_at=at.date(), branch=branch, trigger="quarter_end",
        ruleset_version="group-example.1", reason=f"score {score}: {level or 'regular client'}",
    )


def manager_changed(
    client_id: str, *, revision: int, agent_id: str | None, at: datetime = G0, branch: str = "GD-SZ"
) -> AccountManagerChanged:
    manager = AccountManager(agent_id=agent_id, name=f"Name {agent_id}", branch=branch) if agent_id else None
    return AccountManagerChanged(
        event_id=uuid.uuid4().hex, occurred_at=at, correlation_id=uuid.uuid4().hex, client_id=client_id,
        revision=revision, manager=manager, reason="test", effective_at=at.date(),
    )


def group_staff_upserted(
    agent_id: str,
    *,
    branch: str = "GD-SZ",
    role: AgentRole = AgentRole.CS_SPECIALIST,
    top: bool = False,
    eligible: bool = True,
    at: datetime = G0 - timedelta(days=30),
) -> AgentUpserted:
    profile = AgentProfile(
        agent_id=agent_id, name=f"Name {agent_id}", channel=Channel.GROUP, branch=branch, role=role,
        top_performer=top, eligible=eligible,
    )
    return AgentUpserted(event_id=uuid.uuid4().hex, occurred_at=at, event_type="agent_upserted", agent=profile)
