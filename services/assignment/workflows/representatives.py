"""Carrying a choice out: the customer, both persons' loads, the history entry, and the
`RepresentativeChanged` to publish. The handlers decide *when*; the domain decides *who*; this
module is the one place a representative is ever changed: filling vacancies (`fill`) and revising
a choice on a late fact (`revise`), for the handlers and the daily run alike.
"""

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from services.assignment.domain.assignment import Agent, Basis, Choice
from services.assignment.domain.facts import Cause
from services.assignment.domain.reassignment import Vacancy, fill_vacancies, revise_for_late_fact
from services.assignment.domain.records import Customer, HistoryEntry, assigned
from services.assignment.mapping import representative_changed
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.repositories.pools import Pool
from shared.events.internal import InternalEvent


async def apply_choice(
    uow: AssignmentUnitOfWork,
    customer: Customer,
    choice: Choice | None,
    *,
    agents: Mapping[str, Agent],
    cause: Cause,
    why: str,
    decided_at: datetime,
    top_performers_first: bool = False,
) -> list[InternalEvent]:
    """Record `choice` (None: nobody) with `why` as the first part of its reason.

    Published only when the representative changes. A VIP left without anyone is recorded once in
    the history (when they become unassigned) and then stays listed as unassigned until filled.
    """
    before = customer.representative.agent_id if customer.representative else None
    after = choice.agent_id if choice else None
    changed = before != after
    if choice is None and not changed and customer.unassigned_since is not None:
        return []
    if choice is not None:
        choice = replace(choice, reason=f"{why}: {choice.reason}")
        reason = choice.reason
    else:
        reason = f"{why}: {_nobody(customer, top_performers_first)}" if customer.is_vip else why
    if changed:
        for agent_id, delta in ((before, -1), (after, 1)):
            if agent_id is not None:
                uow.agents.add_load(agent_id, delta)
    now = assigned(
        customer, choice=choice, decided_at=decided_at, since=cause.effective_at, unassigned_reason=reason,
        top_performers_first=top_performers_first, publishing=changed,
    )
    uow.customers.save_customer(now)
    agent = agents.get(after) if after else None
    uow.history.save_entry(
        _history_entry(now, agent, choice=choice, reason=reason, cause=cause, decided_at=decided_at, published=changed)
    )
    if not changed:
        return []
    return [representative_changed(customer.customer_id, agent, reason=reason, revision=now.revision, cause=cause)]


def _history_entry(
    customer: Customer,
    agent: Agent | None,
    *,
    choice: Choice | None,
    reason: str,
    cause: Cause,
    decided_at: datetime,
    published: bool,
) -> HistoryEntry:
    """A change published carries its `RepresentativeChanged` revision; one only recorded, none."""
    return HistoryEntry(
        customer_id=customer.customer_id,
        revision=customer.revision if published else None,
        agent_id=choice.agent_id if choice else None,
        agent_name=agent.name if agent else None,
        agent_channel=agent.channel.value if agent else None,
        basis=choice.basis.value if choice else None,
        reason=reason,
        effective_at=cause.effective_at,
        decided_at=decided_at,
        cause_event_id=cause.event_id,
        cause_event_type=cause.event_type,
    )


def _nobody(customer: Customer, top_performers_first: bool) -> str:
    channel = customer.serving_channel or "(no serving channel)"
    tops = f"no top performer of the {channel} channel and " if top_performers_first else ""
    return (
        f"{tops}no active eligible service person on the counting policies and nobody available in the "
        f"{channel} channel's service pool; kept as unassigned until someone becomes available"
    )


async def fill(
    uow: AssignmentUnitOfWork,
    customers: Sequence[Customer],
    *,
    cause: Cause,
    why: str,
    excluded: Collection[str] = (),
    top_performers_first: bool | None = None,
) -> list[InternalEvent]:
    """Choose for each customer by the rules as of the cause (its contacts up to then), loads rising
    as the choices are made. `top_performers_first` None: as each customer's vacancy says."""
    if not customers:
        return []
    await uow.contacts.load(customer.customer_id for customer in customers)
    vacancies = [
        Vacancy(
            customer_id=customer.customer_id,
            policies=customer.policies,
            contacts=await uow.contacts.latest(customer.customer_id, until=cause.occurred_at),
            serving_channel=customer.serving_channel,
            branch=customer.branch,
            top_performers_first=(
                customer.top_performers_first if top_performers_first is None else top_performers_first
            ),
        )
        for customer in customers
    ]
    agents, chosen = await _choose(uow, vacancies, excluded=excluded, as_of=cause.occurred_at)
    published: list[InternalEvent] = []
    for customer, vacancy in zip(customers, vacancies, strict=True):
        published += await apply_choice(
            uow,
            customer,
            chosen[customer.customer_id],
            agents=agents,
            cause=cause,
            why=why,
            decided_at=cause.occurred_at,
            top_performers_first=vacancy.top_performers_first,
        )
    return published


async def _choose(
    uow: AssignmentUnitOfWork, vacancies: Sequence[Vacancy], *, excluded: Collection[str], as_of: datetime
) -> tuple[dict[str, Agent], dict[str, Choice | None]]:
    """The choices, with the persons on the policies first; the pools (which need a query) are read
    only when someone needs them (`_settled_by_policies`)."""
    named = {share.agent_id for vacancy in vacancies for share in vacancy.policies if share.agent_id}
    agents, loads = await uow.agents.candidates(named=named, pools={}, top_performers={})
    chosen = dict(
        fill_vacancies(vacancies=vacancies, agents=agents, load_by_agent=loads, excluded=excluded, as_of=as_of)
    )
    if _settled_by_policies(vacancies, chosen):
        return agents, chosen
    pools: Counter[Pool] = Counter()
    tops: Counter[Pool] = Counter()
    for vacancy in vacancies:
        if vacancy.serving_channel is not None:
            pools[(vacancy.serving_channel, vacancy.branch)] += 1
            if vacancy.top_performers_first:
                tops[(vacancy.serving_channel, vacancy.branch)] += 1
    agents, loads = await uow.agents.candidates(
        named=named,
        pools={pool: count + 1 for pool, count in pools.items()},
        top_performers={pool: count + 1 for pool, count in tops.items()},
    )
    chosen = dict(
        fill_vacancies(vacancies=vacancies, agents=agents, load_by_agent=loads, excluded=excluded, as_of=as_of)
    )
    return agents, chosen


def _settled_by_policies(vacancies: Sequence[Vacancy], chosen: Mapping[str, Choice | None]) -> bool:
    """Whether every vacancy went to a person on its policies, with only those persons looked at.

    The policies are tried before any pool, and that step reads neither the pools nor the loads, so
    adding the pools could not change these choices.
    """
    return all(
        not vacancy.top_performers_first
        and (choice := chosen[vacancy.customer_id]) is not None
        and choice.basis in {Basis.POLICY, Basis.RECENT_CONTACT}
        for vacancy in vacancies
    )


async def revise(
    uow: AssignmentUnitOfWork, customer: Customer, *, late_agent_id: str, cause: Cause, why: str
) -> list[InternalEvent]:
    """Take the customer's decision again as of when it was taken, now that a late fact about
    `late_agent_id` is known (`domain.reassignment.revise_for_late_fact` says when that moves anyone)."""
    incumbent, decided_at = customer.representative, customer.decided_at
    if incumbent is None or decided_at is None or late_agent_id not in incumbent.revisable_by:
        return []
    named = {share.agent_id for share in customer.policies if share.agent_id} | {incumbent.agent_id}
    agents, loads = await uow.agents.candidates(named=named, pools={}, top_performers={})
    choice = revise_for_late_fact(
        incumbent=incumbent,
        late_agent_id=late_agent_id,
        decided_at=decided_at,
        policies=customer.policies,
        agents=agents,
        contacts=await uow.contacts.latest(customer.customer_id, until=decided_at),
        load_by_agent=loads,
        serving_channel=customer.serving_channel,
        branch=customer.branch,
    )
    if choice is None:
        return []
    return await apply_choice(uow, customer, choice, agents=agents, cause=cause, why=why, decided_at=decided_at)
