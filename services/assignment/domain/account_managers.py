"""Who serves a VIP group client: the account service manager of rules.md section 9 (服务组织).

Pure functions over frozen values. The invariants the tests hold us to:

- Only an **assignable** person (active and eligible, as `Agent.assignable`) of the **group
  channel's service staff** (customer-service specialists, renewal staff, back-office staff: the
  section 7 pool roles) is chosen; people of the client's branch first, then the group channel's
  people of other branches; among them the least loaded (group clients managed now), then the
  lowest `agent_id` (a deterministic last resort).
- Disqualification hands the clients to the group channel's **top performers** (any role, branch
  first, least loaded), as section 7 does; none in the channel: the service staff rule
  **(interpretation: better served by the regular rule than left without anyone)**.
- A manager stays with the client until the client stops being VIP or the person leaves or is
  disqualified (no churn when loads shift or a profile changes); a person excluded (the one
  leaving) is never chosen.
- The result never depends on the order of the inputs.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from services.assignment.domain.assignment import POOL_ROLES, Agent
from shared.events.values import Channel


@dataclass(frozen=True, slots=True)
class Manager:
    agent_id: str
    name: str
    branch: str


@dataclass(frozen=True, slots=True)
class LevelFacts:
    """What a `GroupLevelDecided` says: the effective level (None: a regular client) and the branch."""

    client_id: str
    revision: int
    level: str | None
    branch: str | None
    reason: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class GroupClient:
    """A group client as of its last level decision, with its account manager or, for a VIP client
    nobody could be found for, since when it has none."""

    client_id: str
    level_revision: int
    level: str | None
    branch: str | None
    manager: Manager | None
    since: date | None
    reason: str
    unassigned_since: date | None
    revision: int
    """Of the last `AccountManagerChanged` published."""

    @property
    def is_vip(self) -> bool:
        return self.level is not None


def with_level(client: GroupClient | None, facts: LevelFacts) -> GroupClient:
    """The client after a level decision; the manager is left as it was (the caller decides)."""
    current = client or GroupClient(
        client_id=facts.client_id, level_revision=0, level=None, branch=None, manager=None, since=None, reason="",
        unassigned_since=None, revision=0,
    )
    return replace(
        current, level_revision=facts.revision, level=facts.level, branch=facts.branch or current.branch,
        unassigned_since=current.unassigned_since if facts.level is not None else None,
    )


def is_service_staff(agent: Agent) -> bool:
    """The group channel's service staff (团险渠道服务人员)."""
    return agent.channel is Channel.GROUP and agent.role in POOL_ROLES


def choose_account_manager(
    *,
    branch: str | None,
    staff: Iterable[Agent],
    loads: Mapping[str, int],
    excluded: Collection[str] = (),
    top_performers_first: bool = False,
) -> Agent | None:
    """The least loaded assignable person of the group channel's service staff, the client's branch
    first; after a disqualification the channel's top performers first."""
    people = [
        agent for agent in staff
        if agent.channel is Channel.GROUP and agent.assignable and agent.agent_id not in excluded
    ]
    if top_performers_first:
        chosen = _least_loaded([agent for agent in people if agent.top_performer], branch=branch, loads=loads)
        if chosen is not None:
            return chosen
    return _least_loaded([agent for agent in people if agent.role in POOL_ROLES], branch=branch, loads=loads)


def _least_loaded(people: list[Agent], *, branch: str | None, loads: Mapping[str, int]) -> Agent | None:
    if not people:
        return None
    return min(people, key=lambda agent: (agent.branch != branch, loads.get(agent.agent_id, 0), agent.agent_id))


def reason_for(agent: Agent, *, branch: str | None, loads: Mapping[str, int], top_performer: bool) -> str:
    """A readable reason for the choice, as the history and `AccountManagerChanged` carry it."""
    pool = "the group channel's top performers" if top_performer else "the group channel's service staff"
    where = "of the client's branch" if agent.branch == branch else f"of branch {agent.branch} (none free in {branch})"
    return f"{agent.name} ({agent.agent_id}) from {pool} {where}, least loaded ({loads.get(agent.agent_id, 0)} clients)"
