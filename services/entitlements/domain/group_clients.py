"""A group client as entitlements keeps it (rules.md section 9): the last level decision and account
manager applied, and the revision of the feedback it last reported to tiering.

`GroupLevelDecided` (tiering) and `AccountManagerChanged` (assignment) carry full state with a
per-client `revision` each; one not above the last applied is stale and has no effect.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, kw_only=True)
class Manager:
    agent_id: str
    name: str
    branch: str


@dataclass(frozen=True, kw_only=True)
class LevelChange:
    client_id: str
    revision: int
    level: str | None
    evaluated_level: str | None
    approved_level: str | None
    score: Decimal
    scale: Decimal
    loyalty: Decimal
    profit: Decimal
    evaluated_on: date | None
    effective_at: date
    branch: str | None


@dataclass(frozen=True, kw_only=True)
class ManagerChange:
    client_id: str
    revision: int
    manager: Manager | None


@dataclass(frozen=True, kw_only=True)
class GroupClient:
    client_id: str
    level_revision: int = 0
    level: str | None = None
    evaluated_level: str | None = None
    approved_level: str | None = None
    score: Decimal = Decimal("0")
    scale: Decimal | None = None
    loyalty: Decimal | None = None
    profit: Decimal | None = None
    evaluated_on: date | None = None
    level_effective_at: date | None = None
    branch: str | None = None
    manager_revision: int = 0
    manager: Manager | None = None
    feedback_revision: int = 0

    @property
    def is_vip(self) -> bool:
        return self.level is not None


def with_level(client: GroupClient, change: LevelChange) -> GroupClient | None:
    """The client after the decision; None when it is stale."""
    if change.revision <= client.level_revision:
        return None
    return replace(
        client, level_revision=change.revision, level=change.level, evaluated_level=change.evaluated_level,
        approved_level=change.approved_level, score=change.score, scale=change.scale, loyalty=change.loyalty,
        profit=change.profit, evaluated_on=change.evaluated_on, level_effective_at=change.effective_at,
        branch=change.branch or client.branch,
    )


def with_manager(client: GroupClient, change: ManagerChange) -> GroupClient | None:
    """The client after the change of manager; None when it is stale."""
    if change.revision <= client.manager_revision:
        return None
    return replace(client, manager_revision=change.revision, manager=change.manager)
