"""The facts assignment's events bring, as frozen values: `mapping.py` builds them from the wire
contracts before any rule or workflow sees an event, so a contract change touches one mapping."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from services.assignment.domain.assignment import Agent, PolicyShare
from shared.events.values import Channel, Tier


@dataclass(frozen=True, slots=True)
class Cause:
    """The event a change comes from: ids for the output event, its time, and the effective date."""

    event_id: str
    event_type: str
    correlation_id: str
    occurred_at: datetime
    effective_at: date


@dataclass(frozen=True, slots=True)
class TierFacts:
    """What a tier decision says about the customer: the tier (None: not VIP) and the policies."""

    customer_id: str
    revision: int
    tier: Tier | None
    serving_channel: Channel | None
    branch: str | None
    """The customer's branch (the CRM profile's, else the highest-contribution policy's; for an
    honorary VIP without policies, the filing branch); None: unknown, the pools are channel-wide."""
    policies: tuple[PolicyShare, ...]
    reason: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Profile:
    """A service person's profile as HR sends it, as of `at`; never departed nor disqualified by itself."""

    agent: Agent
    at: datetime


@dataclass(frozen=True, slots=True)
class Departure:
    """`announced_on` is the insurer-local date of the event (or of the daily run that applies it)."""

    agent_id: str
    departed_on: date
    at: datetime
    announced_on: date

    @property
    def acts_now(self) -> bool:
        """Dated today or earlier: it acts on receipt; dated ahead, it waits for the daily run of that date."""
        return self.departed_on <= self.announced_on


@dataclass(frozen=True, slots=True)
class Disqualification:
    agent_id: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    """`contacted_at` is always aware (a moment without offset is read in the insurer's zone)."""

    customer_id: str
    agent_id: str
    contacted_at: datetime


@dataclass(frozen=True, slots=True)
class Touched:
    """What one batch of events touches: the unit of work locks and loads it before the handlers run."""

    customer_ids: tuple[str, ...]
    """Customers of tier decisions and contacts."""
    agent_ids: tuple[str, ...]
    """Persons whose profile, departure or disqualification the batch applies."""
    profiles: tuple[Agent, ...]
    named_agent_ids: frozenset[str]
    """Persons on the tier decisions' policies."""
    new_vips_by_pool: Mapping[tuple[Channel, str | None], int]
    """VIP tier decisions per serving channel and branch: vacancies the pool may fill."""
