"""What assignment keeps about a VIP customer and a service person, as frozen values, and how each
fact changes them. Pure: the repositories store these values as they are."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from services.assignment.domain.assignment import Agent, Choice, PolicyShare
from services.assignment.domain.facts import Departure, Disqualification, Profile, TierFacts
from shared.events.values import Channel, Tier


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer as of their last tier decision, with their representative (`representative`, the
    choice and why) or, for a VIP nobody could be found for, since when and why they have none."""

    customer_id: str
    tier_revision: int
    tier: Tier | None
    serving_channel: Channel | None
    branch: str | None
    policies: tuple[PolicyShare, ...]
    representative: Choice | None
    decided_at: datetime | None
    since: date | None
    top_performers_first: bool
    unassigned_since: date | None
    unassigned_reason: str | None
    revision: int
    """Of the last `RepresentativeChanged` published."""

    @property
    def is_vip(self) -> bool:
        return self.tier is not None

    @property
    def reason(self) -> str:
        """Why the customer has their representative, or why they have none."""
        if self.representative is not None:
            return self.representative.reason
        return self.unassigned_reason or ""

    @property
    def service_person_ids(self) -> tuple[str, ...]:
        """The persons on the counting policies, by id."""
        persons = {share.agent_id for share in self.policies if share.counted and share.agent_id is not None}
        return tuple(sorted(persons))


def with_tier(customer: Customer | None, facts: TierFacts) -> Customer:
    """The customer after a tier decision; the representative is left as it was (the caller decides).
    Losing VIP status clears the record of waiting for a representative."""
    current = customer or Customer(
        customer_id=facts.customer_id, tier_revision=0, tier=None, serving_channel=None, branch=None, policies=(),
        representative=None, decided_at=None, since=None, top_performers_first=False, unassigned_since=None,
        unassigned_reason=None, revision=0,
    )
    updated = replace(
        current,
        tier_revision=facts.revision,
        tier=facts.tier,
        serving_channel=facts.serving_channel,
        branch=facts.branch,
        policies=facts.policies,
    )
    if facts.tier is None:
        updated = replace(updated, unassigned_since=None, unassigned_reason=None, top_performers_first=False)
    return updated


def assigned(
    customer: Customer,
    *,
    choice: Choice | None,
    decided_at: datetime,
    since: date,
    unassigned_reason: str | None,
    top_performers_first: bool,
    publishing: bool,
) -> Customer:
    """The customer with `choice` as representative (None: nobody); the revision rises by one when
    the change is `publishing`. A VIP left without anyone keeps the date they have waited since."""
    vacant = choice is None and customer.is_vip
    return replace(
        customer,
        representative=choice,
        decided_at=decided_at if choice else None,
        since=since if choice else None,
        top_performers_first=top_performers_first and vacant,
        unassigned_since=(customer.unassigned_since or since) if vacant else None,
        unassigned_reason=unassigned_reason if vacant else None,
        revision=customer.revision + (1 if publishing else 0),
    )


@dataclass(frozen=True, slots=True)
class StoredAgent:
    """A service person as assignment knows them: HR's profile (None until the first one arrives),
    what happened to them since, and `load`, the VIP customers they represent now. `departs_on` is a
    departure announced ahead: until that date's daily run the person stays active."""

    agent_id: str
    agent: Agent | None
    profile_at: datetime | None
    departed_on: date | None
    departed_at: datetime | None
    disqualified_at: datetime | None
    disqualification_reason: str | None
    load: int
    departs_on: date | None = None


def unknown_agent(agent_id: str) -> StoredAgent:
    """A person known only by id: no profile, nothing happened to them, nobody represented."""
    return StoredAgent(
        agent_id=agent_id, agent=None, profile_at=None, departed_on=None, departed_at=None, disqualified_at=None,
        disqualification_reason=None, load=0,
    )


def with_profile(stored: StoredAgent | None, profile: Profile) -> StoredAgent:
    """Departure and disqualification are kept: a profile never brings a person back."""
    current = stored or unknown_agent(profile.agent.agent_id)
    agent = replace(
        profile.agent, departed=current.departed_at is not None, disqualified=current.disqualified_at is not None
    )
    return replace(current, agent=agent, profile_at=profile.at)


def departed(stored: StoredAgent | None, departure: Departure) -> StoredAgent | None:
    """The person after leaving the company; None if they had already left (a departure acts once).
    A person may be known only by this event (no profile yet). Any departure announced ahead is
    superseded."""
    current = stored or unknown_agent(departure.agent_id)
    if current.departed_at is not None:
        return None
    agent = replace(current.agent, departed=True) if current.agent else None
    return replace(
        current, agent=agent, departed_on=departure.departed_on, departed_at=departure.at, departs_on=None
    )


def departure_announced(stored: StoredAgent | None, departure: Departure) -> StoredAgent | None:
    """The person with a departure dated ahead recorded; they stay active until its date. None if
    they already left or the same date is already recorded. A later announcement replaces an
    earlier one **(interpretation: HR's newest word on the date holds)**."""
    current = stored or unknown_agent(departure.agent_id)
    if current.departed_at is not None or current.departs_on == departure.departed_on:
        return None
    return replace(current, departs_on=departure.departed_on)


def disqualified(stored: StoredAgent | None, disqualification: Disqualification) -> StoredAgent | None:
    """The person after disqualification; None if they already were (it acts once, and is final)."""
    current = stored or unknown_agent(disqualification.agent_id)
    if current.disqualified_at is not None:
        return None
    agent = replace(current.agent, disqualified=True) if current.agent else None
    return replace(
        current, agent=agent, disqualification_reason=disqualification.reason, disqualified_at=disqualification.at
    )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One representative change (or a VIP left without anyone), with its reason and cause."""

    customer_id: str
    revision: int | None
    """The `RepresentativeChanged` revision it was published as; None: recorded only (a new VIP nobody
    could be found for has no representative before or after, so there is nothing to publish)."""
    agent_id: str | None
    agent_name: str | None
    agent_channel: str | None
    basis: str | None
    reason: str
    effective_at: date
    decided_at: datetime
    cause_event_id: str
    cause_event_type: str
