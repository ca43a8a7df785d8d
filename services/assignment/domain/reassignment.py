"""Changes to an existing assignment (rules.md section 7): departure, disqualification, loss and
regain of VIP status, vacancies filled in bulk, and late facts (order independence).

Pure functions over the values of `domain`; no I/O and no clock. The representative stays with the
customer in every case not named here (no churn when contributions shift, when a tier changes
between Gold and Diamond, when the serving channel moves, or when the representative stops meeting
the basic requirements: that bars *new* assignments only).
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.assignment.domain.assignment import (
    Agent,
    Choice,
    PolicyShare,
    choose_representative,
    choose_top_performer,
)
from shared.events.values import Channel


def replace_disqualified(
    *,
    disqualified_agent_id: str,
    policies: Sequence[PolicyShare],
    agents: Mapping[str, Agent],
    contacts: Mapping[str, datetime],
    load_by_agent: Mapping[str, int],
    serving_channel: Channel | None,
    branch: str | None = None,
    as_of: datetime,
) -> Choice | None:
    """Top performers take over from a disqualified representative; without any, the regular rule."""
    excluded = {disqualified_agent_id}
    return choose_top_performer(
        agents=agents, load_by_agent=load_by_agent, serving_channel=serving_channel, branch=branch, excluded=excluded
    ) or choose_representative(
        policies=policies,
        agents=agents,
        contacts=contacts,
        load_by_agent=load_by_agent,
        serving_channel=serving_channel,
        branch=branch,
        excluded=excluded,
        as_of=as_of,
    )


def reassign_after_departure(
    *,
    departed_agent_id: str,
    policies: Sequence[PolicyShare],
    agents: Mapping[str, Agent],
    contacts: Mapping[str, datetime],
    load_by_agent: Mapping[str, int],
    serving_channel: Channel | None,
    branch: str | None = None,
    as_of: datetime,
) -> Choice | None:
    """The same rule among the remaining policies and then the pool, the departed person excluded."""
    return choose_representative(
        policies=policies,
        agents=agents,
        contacts=contacts,
        load_by_agent=load_by_agent,
        serving_channel=serving_channel,
        branch=branch,
        excluded={departed_agent_id},
        as_of=as_of,
    )


class TierStep(StrEnum):
    """What a tier decision does to the assignment."""

    KEEP = "keep"
    """Still VIP and represented: the representative stays (no churn when contributions shift)."""
    END = "end"
    """No longer VIP: the assignment ends."""
    FILL = "fill"
    """VIP without a representative (new VIP, or nobody was available so far): choose one."""
    NOTHING = "nothing"


def step_for_tier(*, is_vip: bool, represented: bool) -> TierStep:
    if not is_vip:
        return TierStep.END if represented else TierStep.NOTHING
    return TierStep.KEEP if represented else TierStep.FILL


@dataclass(frozen=True, slots=True)
class Vacancy:
    """A VIP customer who needs a representative, with the facts the rules look at."""

    customer_id: str
    policies: tuple[PolicyShare, ...]
    contacts: Mapping[str, datetime]
    serving_channel: Channel | None
    branch: str | None = None
    """The customer's branch: the pools take its people first."""
    top_performers_first: bool = False
    """True when the previous representative was disqualified."""


def fill_vacancies(
    *,
    vacancies: Iterable[Vacancy],
    agents: Mapping[str, Agent],
    load_by_agent: Mapping[str, int],
    excluded: Collection[str],
    as_of: datetime,
) -> tuple[tuple[str, Choice | None], ...]:
    """Choose for several customers at once, in customer id order, each choice adding to the load the
    next one sees: a departed or disqualified representative's customers spread over the pool
    instead of all landing on whoever was least loaded before.
    """
    loads = dict(load_by_agent)
    results: list[tuple[str, Choice | None]] = []
    for vacancy in sorted(vacancies, key=lambda vacancy: vacancy.customer_id):
        choice = None
        if vacancy.top_performers_first:
            choice = choose_top_performer(
                agents=agents, load_by_agent=loads, serving_channel=vacancy.serving_channel, branch=vacancy.branch,
                excluded=excluded,
            )
        choice = choice or choose_representative(
            policies=vacancy.policies,
            agents=agents,
            contacts=vacancy.contacts,
            load_by_agent=loads,
            serving_channel=vacancy.serving_channel,
            branch=vacancy.branch,
            excluded=excluded,
            as_of=as_of,
        )
        if choice is not None:
            loads[choice.agent_id] = loads.get(choice.agent_id, 0) + 1
        results.append((vacancy.customer_id, choice))
    return tuple(results)


def revise_for_late_fact(
    *,
    incumbent: Choice,
    late_agent_id: str,
    decided_at: datetime,
    policies: Sequence[PolicyShare],
    agents: Mapping[str, Agent],
    contacts: Mapping[str, datetime],
    load_by_agent: Mapping[str, int],
    serving_channel: Channel | None,
    branch: str | None = None,
) -> Choice | None:
    """The representative the rules give once a late fact about `late_agent_id` is known, or None to keep.

    A late fact is a service person's first profile, or a contact they made with the customer before
    the decision (`decided_at`) that reached us after it. The rules give the person they would have
    chosen had the fact arrived in time, so the decision is taken again as of `decided_at`, with
    the incumbent treated as they were then (eligible). It switches only **to the person the late
    fact is about**, and only if they were in the incumbent's `revisable_by`: nothing else that
    changed since (contributions, other people's eligibility, loads) moves the representative, which
    is the no-churn rule. A contact made after the decision is news, not a late fact: it never
    moves anyone (the caller does not pass it: `contacts` after `decided_at` are ignored here).
    """
    if late_agent_id not in incumbent.revisable_by or late_agent_id == incumbent.agent_id:
        return None
    as_then = dict(agents)
    if incumbent.agent_id in as_then:
        as_then[incumbent.agent_id] = replace(as_then[incumbent.agent_id], eligible=True)
    again = choose_representative(
        policies=policies,
        agents=as_then,
        contacts=contacts,
        load_by_agent=load_by_agent,
        serving_channel=serving_channel,
        branch=branch,
        excluded=(),
        as_of=decided_at,
    )
    if again is None or again.agent_id != late_agent_id:
        return None
    return replace(again, reason=f"{again.reason} (late information, decided as of {decided_at.isoformat()})")
