"""The edge of assignment: tier decisions and HR events in, as frozen domain values, before any rule
or workflow sees them; `RepresentativeChanged` out. The only module that reads a wire contract."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.assignment.domain.account_managers import GroupClient, LevelFacts
from services.assignment.domain.assignment import Agent, PolicyShare, contribution_of
from services.assignment.domain.duties import CrmProfile, PolicyIssue
from services.assignment.domain.facts import (
    Cause,
    Contact,
    Departure,
    Disqualification,
    Profile,
    TierFacts,
    Touched,
)
from shared.events.group import AccountManager, AccountManagerChanged, GroupLevelDecided
from shared.events.ids import derive_event_id
from shared.events.inbound import AgentDeparted, AgentDisqualified, AgentUpserted, CustomerContacted, CustomerUpserted
from shared.events.internal import PolicyContribution, Representative, RepresentativeChanged, TierDecided
from shared.events.values import Standard

HrEvent = AgentUpserted | AgentDeparted | AgentDisqualified | CustomerContacted


def policy_shares(contributions: Iterable[PolicyContribution], *, standard: Standard) -> tuple[PolicyShare, ...]:
    """Each policy's contribution in the figure of the customer's standard; only `counted` ones count."""
    return tuple(
        PolicyShare(
            policy_no=item.policy_no,
            agent_id=item.agent_id,
            contribution=contribution_of(points=item.points, standard_premium=item.standard_premium, standard=standard),
            counted=item.state == "counted",
        )
        for item in contributions
    )


def branch_of(event: TierDecided) -> str | None:
    """The customer's branch as tiering decided it; a decision without one (from before tiering filled
    it) falls back to the branch of the highest-contribution counting policy, ties to the most
    recently issued, then the lowest policy number, as the serving channel is chosen."""
    if event.branch is not None:
        return event.branch
    counted = [item for item in event.policies if item.state == "counted"]
    if not counted:
        return None

    def rank(item: PolicyContribution) -> tuple[Decimal, int, str]:
        figure = contribution_of(points=item.points, standard_premium=item.standard_premium, standard=event.standard)
        return -figure, -item.issued_on.toordinal(), item.policy_no

    return min(counted, key=rank).branch


def tier_facts_of(event: TierDecided) -> TierFacts:
    return TierFacts(
        customer_id=event.customer_id,
        revision=event.revision,
        tier=event.tier,
        serving_channel=event.serving_channel,
        branch=branch_of(event),
        policies=policy_shares(event.policies, standard=event.standard),
        reason=event.reason,
        occurred_at=event.occurred_at,
    )


def cause_of_tier(event: TierDecided) -> Cause:
    return Cause(
        event_id=event.event_id,
        event_type=event.event_type,
        correlation_id=event.correlation_id,
        occurred_at=event.occurred_at,
        effective_at=event.effective_at,
    )


def cause_of_hr(event: HrEvent, *, zone: ZoneInfo) -> Cause:
    """An HR event takes effect on the insurer's calendar date of its `occurred_at`."""
    return Cause(
        event_id=event.event_id,
        event_type=event.event_type,
        correlation_id=event.event_id,
        occurred_at=event.occurred_at,
        effective_at=event.occurred_at.astimezone(zone).date(),
    )


def agent_of(event: AgentUpserted) -> Agent:
    profile = event.agent
    return Agent(
        agent_id=profile.agent_id,
        name=profile.name,
        channel=profile.channel,
        branch=profile.branch,
        role=profile.role,
        top_performer=profile.top_performer,
        eligible=profile.eligible,
    )


def profile_of(event: AgentUpserted) -> Profile:
    return Profile(agent=agent_of(event), at=event.occurred_at)


def departure_of(event: AgentDeparted, *, zone: ZoneInfo) -> Departure:
    """Announced on the insurer's calendar date of the event's `occurred_at`."""
    return Departure(
        agent_id=event.agent_id,
        departed_on=event.departed_on,
        at=event.occurred_at,
        announced_on=event.occurred_at.astimezone(zone).date(),
    )


def disqualification_of(event: AgentDisqualified) -> Disqualification:
    return Disqualification(agent_id=event.agent_id, reason=event.reason, at=event.occurred_at)


def contact_of(event: CustomerContacted, *, zone: ZoneInfo) -> Contact:
    """A `contacted_at` without an offset is read in the insurer's time zone."""
    contacted_at = _aware(event.contacted_at, zone)
    return Contact(customer_id=event.customer_id, agent_id=event.agent_id, contacted_at=contacted_at)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def touched_by(events: Sequence[Any]) -> Touched:
    """What a batch's events name, for `AssignmentUnitOfWork.prepare`."""
    decisions = [event for event in events if isinstance(event, TierDecided)]
    profiles = [event for event in events if isinstance(event, AgentUpserted)]
    return Touched(
        customer_ids=tuple(event.customer_id for event in events if isinstance(event, TierDecided | CustomerContacted)),
        agent_ids=tuple(
            event.agent.agent_id if isinstance(event, AgentUpserted) else event.agent_id
            for event in events
            if isinstance(event, AgentUpserted | AgentDeparted | AgentDisqualified)
        ),
        profiles=tuple(agent_of(event) for event in profiles),
        named_agent_ids=frozenset(
            share.agent_id for event in decisions for share in event.policies if share.agent_id is not None
        ),
        new_vips_by_pool=dict(
            Counter(
                (event.serving_channel, branch_of(event))
                for event in decisions
                if event.tier is not None and event.serving_channel is not None
            )
        ),
    )


def representative_changed(
    customer_id: str, agent: Agent | None, *, reason: str, revision: int, cause: Cause
) -> RepresentativeChanged:
    return RepresentativeChanged(
        event_id=derive_event_id(cause.event_id, "representative_changed", customer_id, revision),
        occurred_at=cause.occurred_at,
        correlation_id=cause.correlation_id,
        customer_id=customer_id,
        revision=revision,
        representative=(
            Representative(agent_id=agent.agent_id, name=agent.name, channel=agent.channel) if agent else None
        ),
        reason=reason,
        effective_at=cause.effective_at,
    )


def policy_issues_of(event: TierDecided) -> tuple[PolicyIssue, ...]:
    """Each policy of the decision with its issue date: a new one of a VIP gives a delivery item."""
    return tuple(PolicyIssue(policy_no=item.policy_no, issued_on=item.issued_on) for item in event.policies)


def crm_profile_of(event: CustomerUpserted) -> CrmProfile:
    profile = event.customer
    return CrmProfile(
        customer_id=profile.customer_id, name=profile.name, birthday=profile.birthday, branch=profile.branch,
        at=event.occurred_at,
    )


def level_facts_of(event: GroupLevelDecided) -> LevelFacts:
    return LevelFacts(
        client_id=event.client_id, revision=event.revision, level=event.level, branch=event.branch,
        reason=event.reason, occurred_at=event.occurred_at,
    )


def cause_of_level(event: GroupLevelDecided) -> Cause:
    return Cause(
        event_id=event.event_id, event_type=event.event_type, correlation_id=event.correlation_id,
        occurred_at=event.occurred_at, effective_at=event.effective_at,
    )


def account_manager_changed(client: GroupClient, *, cause: Cause) -> AccountManagerChanged:
    """The client's manager (or none) as of `client.revision`, with the reason."""
    manager = client.manager
    return AccountManagerChanged(
        event_id=derive_event_id(cause.event_id, "account_manager_changed", client.client_id, client.revision),
        occurred_at=cause.occurred_at,
        correlation_id=cause.correlation_id,
        client_id=client.client_id,
        revision=client.revision,
        manager=(
            AccountManager(agent_id=manager.agent_id, name=manager.name, branch=manager.branch) if manager else None
        ),
        reason=client.reason,
        effective_at=cause.effective_at,
    )


def group_clients_of(events: Sequence[Any]) -> list[str]:
    """The clients a batch's level decisions change, for `AssignmentUnitOfWork.prepare`."""
    return [event.client_id for event in events if isinstance(event, GroupLevelDecided)]
