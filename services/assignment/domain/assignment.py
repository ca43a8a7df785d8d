"""Who represents a VIP customer: the dedicated service representative of rules.md section 7.

Pure functions over frozen values: no I/O, no clock (`as_of` is the moment of the decision). The
invariants the tests hold us to:

- Only an **assignable** person is ever chosen: active (neither departed nor disqualified) and
  eligible (meets the representative's basic requirements). A disqualified person is never chosen
  again, by any path. A person whose profile we have not received yet is not assignable: we cannot
  tell whether they are active.
- Regular rule: counting policies in descending contribution; the first contribution level that has
  an assignable service person wins. Several different persons at that level: the one who most
  recently contacted the customer (contacts after `as_of` do not exist yet); none contacted, or an
  exact tie: the lowest `agent_id` **(interpretation: a deterministic last resort)**.
- Contribution is one measure: the figure under the customer's standard (`contribution_of`), the
  same one tiering's serving channel is chosen by.
- Nobody on the policies: the serving channel's pool of customer-service specialists, renewal staff
  and back-office staff; people of the customer's branch first, then the channel's people in other
  branches, least loaded first within each, then the lowest `agent_id` (`branch_first`).
- Disqualification: the serving channel's top performers (any role with `top_performer`), in the
  same branch-first order; if the channel has none, the regular rule **(interpretation: better
  served by the regular rule than left without anyone)**.
- The result never depends on the order of the inputs.

Changes to an existing assignment, and what the rules leave open about late facts (order
independence), are in `services.assignment.domain.reassignment`.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from shared.events.values import AgentRole, Channel, Standard

POOL_ROLES = frozenset({AgentRole.CS_SPECIALIST, AgentRole.RENEWAL_STAFF, AgentRole.BACK_OFFICE})
"""渠道客服专员, 续期服务人员, 内勤人员: the serving channel's service pool."""


@dataclass(frozen=True, slots=True)
class Agent:
    """A service person as HR describes them, with what happened to them since."""

    agent_id: str
    name: str
    channel: Channel
    branch: str
    role: AgentRole
    top_performer: bool
    eligible: bool
    departed: bool = False
    disqualified: bool = False

    @property
    def active(self) -> bool:
        return not (self.departed or self.disqualified)

    @property
    def assignable(self) -> bool:
        """May receive a new VIP customer: active and meeting the basic requirements."""
        return self.active and self.eligible


@dataclass(frozen=True, slots=True)
class PolicyShare:
    """One policy's contribution to the customer's standing and the person who services it."""

    policy_no: str
    agent_id: str | None
    contribution: Decimal
    counted: bool


class Basis(StrEnum):
    """Which branch of the rule chose the representative."""

    POLICY = "policy"
    RECENT_CONTACT = "recent_contact"
    SERVICE_POOL = "service_pool"
    TOP_PERFORMER_POOL = "top_performer_pool"


@dataclass(frozen=True, slots=True)
class Choice:
    """A chosen representative and why.

    `revisable_by` names the persons a late fact about whom could have changed this choice: a
    service person on a policy at or above the chosen contribution whose profile had not arrived,
    and the other persons of an equal-contribution tie (a contact they made before the decision may
    still arrive). Anyone else's news never moves the representative (no churn).
    """

    agent_id: str
    basis: Basis
    reason: str
    revisable_by: frozenset[str] = field(default_factory=frozenset)


def contribution_of(*, points: Decimal, standard_premium: Decimal, standard: Standard) -> Decimal:
    """A policy's contribution (保费贡献度, rules.md section 4) is its figure under the customer's
    standard: 2015 points, or the legacy standard premium for a customer kept on the legacy standard.
    One measure for the representative and the serving channel, so a legacy customer's costs and
    their representative come from the same channel.
    """
    return standard_premium if standard is Standard.LEGACY else points


def choose_representative(
    *,
    policies: Sequence[PolicyShare],
    agents: Mapping[str, Agent],
    contacts: Mapping[str, datetime],
    load_by_agent: Mapping[str, int],
    serving_channel: Channel | None,
    branch: str | None = None,
    excluded: Collection[str],
    as_of: datetime,
) -> Choice | None:
    """The regular rule: the policies' service persons, then the serving channel's service pool,
    the customer's `branch` first."""
    chosen = _choose_from_policies(policies=policies, agents=agents, contacts=contacts, excluded=excluded, as_of=as_of)
    if chosen is not None:
        return chosen
    pooled = branch_first(
        (agent for agent in agents.values() if agent.role in POOL_ROLES and agent.channel == serving_channel),
        branch=branch,
        load_by_agent=load_by_agent,
        excluded=excluded,
    )
    if pooled is None:
        return None
    return Choice(
        agent_id=pooled.agent_id,
        basis=Basis.SERVICE_POOL,
        reason=(
            f"no active eligible service person on the counting policies; least loaded of the "
            f"{serving_channel} channel's service pool{_where(pooled, branch)} "
            f"({load_by_agent.get(pooled.agent_id, 0)} customers)"
        ),
        revisable_by=_unknown_service_persons(policies, agents),
    )


def choose_top_performer(
    *,
    agents: Mapping[str, Agent],
    load_by_agent: Mapping[str, int],
    serving_channel: Channel | None,
    branch: str | None = None,
    excluded: Collection[str],
) -> Choice | None:
    """The serving channel's top performers (绩优业务人员), the customer's `branch` first."""
    best = branch_first(
        (agent for agent in agents.values() if agent.top_performer and agent.channel == serving_channel),
        branch=branch,
        load_by_agent=load_by_agent,
        excluded=excluded,
    )
    if best is None:
        return None
    return Choice(
        agent_id=best.agent_id,
        basis=Basis.TOP_PERFORMER_POOL,
        reason=(
            f"least loaded top performer of the {serving_channel} channel{_where(best, branch)} "
            f"({load_by_agent.get(best.agent_id, 0)} customers)"
        ),
    )


def branch_first(
    agents: Iterable[Agent], *, branch: str | None, load_by_agent: Mapping[str, int], excluded: Collection[str]
) -> Agent | None:
    """A pool's pick (rules.md section 7, **interpretation**): the least loaded assignable person of
    the customer's branch; only when the branch has nobody, the least loaded of the channel's people
    in other branches. A customer whose branch is unknown (None) is served by the channel anywhere."""
    candidates = [agent for agent in agents if agent.assignable and agent.agent_id not in excluded]
    local = [agent for agent in candidates if agent.branch == branch]
    return _least_loaded(local or candidates, load_by_agent=load_by_agent)


def _where(chosen: Agent, branch: str | None) -> str:
    if branch is None:
        return ""
    if chosen.branch == branch:
        return f" in the customer's branch {branch}"
    return f" ({chosen.branch}: nobody available in the customer's branch {branch})"


def _choose_from_policies(
    *,
    policies: Sequence[PolicyShare],
    agents: Mapping[str, Agent],
    contacts: Mapping[str, datetime],
    excluded: Collection[str],
    as_of: datetime,
) -> Choice | None:
    serviced = [policy for policy in policies if policy.counted and policy.agent_id is not None]
    unknown_above: set[str] = set()
    for contribution in sorted({policy.contribution for policy in serviced}, reverse=True):
        level = [policy for policy in serviced if policy.contribution == contribution]
        persons = {policy.agent_id for policy in level if policy.agent_id is not None}
        unknown = {person for person in persons if person not in agents}
        candidates = sorted(
            person for person in persons - unknown if agents[person].assignable and person not in excluded
        )
        if not candidates:
            unknown_above |= unknown
            continue
        revisable = unknown_above | unknown
        policy_nos = ", ".join(sorted(policy.policy_no for policy in level))
        if len(candidates) == 1:
            return Choice(
                agent_id=candidates[0],
                basis=Basis.POLICY,
                reason=f"service person on policy {policy_nos} ({contribution}), {_FIRST_SERVED}",
                revisable_by=frozenset(revisable),
            )
        chosen, reason = _break_tie(candidates, contacts=contacts, as_of=as_of)
        return Choice(
            agent_id=chosen,
            basis=Basis.RECENT_CONTACT,
            reason=f"equal contribution {contribution} on policies {policy_nos}: {reason}",
            revisable_by=frozenset((revisable | set(candidates)) - {chosen}),
        )
    return None


_FIRST_SERVED = "the highest counting contribution with an active eligible service person"


def _break_tie(candidates: Sequence[str], *, contacts: Mapping[str, datetime], as_of: datetime) -> tuple[str, str]:
    contacted = [
        (contacts[person], person) for person in candidates if person in contacts and contacts[person] <= as_of
    ]
    if not contacted:
        return candidates[0], f"none of {', '.join(candidates)} has contacted the customer; lowest agent id"
    latest = max(moment for moment, _ in contacted)
    chosen = min(person for moment, person in contacted if moment == latest)
    return (
        chosen,
        f"most recent contact with the customer ({latest.isoformat()}) among {', '.join(candidates)}",
    )


def _least_loaded(candidates: Sequence[Agent], *, load_by_agent: Mapping[str, int]) -> Agent | None:
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (load_by_agent.get(agent.agent_id, 0), agent.agent_id))


def _unknown_service_persons(policies: Sequence[PolicyShare], agents: Mapping[str, Agent]) -> frozenset[str]:
    return frozenset(
        policy.agent_id
        for policy in policies
        if policy.counted and policy.agent_id is not None and policy.agent_id not in agents
    )
