"""Assignment's handlers: tier decisions and HR events in, `RepresentativeChanged` out.

**Order independence.** Tier decisions and HR events travel on different topics, so either may
arrive first. The assignment must end up where the rules put it when every fact is known, which
raises the question of what "no churn" allows. The line drawn here:

- A fact that was *true when the representative was chosen but reached us later* corrects the
  choice: a service person's first profile (they serviced the policy all along; we only lacked
  their record), and a contact whose `contacted_at` is not after the decision. The decision is
  taken again as of its own moment, and may only move the customer **to the person the late fact
  is about** (`reassignment.revise_for_late_fact`).
- A fact *newer than the choice* is news, and news never moves a represented customer (no churn):
  a contact after the decision, a shift of contributions, a new policy, a new hire, a change of
  tier or serving channel, the representative no longer meeting the basic requirements (that bars
  new assignments only), a profile update of anyone already known.
- Departure and disqualification always act, whenever they arrive; a person already departed or
  disqualified is never chosen, so those events arriving early simply take effect at the choice. A
  departure dated ahead waits for its date (the daily run); until then the person is active.
- A VIP nobody can be found for stays unassigned (visible at `GET /v1/customers/unassigned`) and is
  filled as soon as someone who could take them becomes assignable: a new profile, or a profile
  turning eligible, of a person in their serving channel or on one of their policies; any later
  tier decision also tries again.
- A late tier decision is one whose `revision` is not above the last applied: it is ignored (and
  counted as stale, as is a profile older than the one applied).
"""

from dataclasses import replace

from services.assignment import mapping
from services.assignment.domain.account_managers import is_service_staff, with_level
from services.assignment.domain.facts import Cause, Disqualification
from services.assignment.domain.reassignment import TierStep, step_for_tier
from services.assignment.domain.records import StoredAgent, disqualified, with_profile, with_tier
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.workflows import account_managers, apply_choice, duties, fill, revise, take_departure
from shared.db import Publishable
from shared.events.group import AccountManagerChanged, GroupLevelDecided
from shared.events.inbound import AgentDeparted, AgentDisqualified, AgentUpserted, CustomerContacted, CustomerUpserted
from shared.events.internal import InternalEvent, TierDecided


async def on_tier_decided(event: TierDecided, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    facts, cause = mapping.tier_facts_of(event), mapping.cause_of_tier(event)
    await uow.customers.lock([facts.customer_id])
    stored = await uow.customers.get(facts.customer_id)
    if stored is not None and facts.revision <= stored.tier_revision:
        uow.mark_stale()
        return []
    customer = with_tier(stored, facts)
    uow.customers.save_customer(customer)
    await duties.follow_tier(
        uow, before=stored, now=customer, policies=mapping.policy_issues_of(event), effective_at=event.effective_at
    )
    step = step_for_tier(is_vip=customer.is_vip, represented=customer.representative is not None)
    if step is TierStep.END:
        return await apply_choice(
            uow, customer, None, agents={}, cause=cause, why=f"no longer VIP ({facts.reason})",
            decided_at=facts.occurred_at,
        )
    if step is TierStep.FILL:
        was_vip = stored is not None and stored.is_vip
        why = "still VIP without a representative; tried again" if was_vip else f"became VIP ({facts.tier})"
        return await fill(uow, [customer], cause=cause, why=why)
    return []


async def on_customer_upserted(event: CustomerUpserted, uow: AssignmentUnitOfWork) -> list[Publishable]:
    """The CRM profile (birthday, branch) for the duties; an older profile than the one kept is stale."""
    profile = mapping.crm_profile_of(event)
    await uow.profiles.lock([profile.customer_id])
    stored = await uow.profiles.get(profile.customer_id)
    if stored is not None and profile.at < stored.at:
        uow.mark_stale()
        return []
    uow.profiles.save_profile(profile)
    await duties.follow_profile(uow, profile, before=stored, on=event.occurred_at.astimezone(uow.ruleset.zone).date())
    return []


async def on_agent_upserted(event: AgentUpserted, uow: AssignmentUnitOfWork) -> list[Publishable]:
    """A profile older than the one applied is stale. A first profile is a late fact for customers
    whose choice it could have changed; a person who becomes assignable fills open vacancies."""
    profile, cause = mapping.profile_of(event), mapping.cause_of_hr(event, zone=uow.ruleset.zone)
    await uow.agents.lock([profile.agent.agent_id])
    stored = await uow.agents.get(profile.agent.agent_id)
    if stored is not None and stored.profile_at is not None and profile.at < stored.profile_at:
        uow.mark_stale()
        return []
    before = stored.agent if stored else None
    now = with_profile(stored, profile)
    uow.agents.save_agent(now)
    agent = now.agent
    assert agent is not None
    published: list[Publishable] = []
    if before is None:
        why = f"profile of {agent.name} ({agent.agent_id}) arrived after the assignment"
        for customer in await uow.customers.revisable_by(agent.agent_id):
            published += await revise(uow, customer, late_agent_id=agent.agent_id, cause=cause, why=why)
    elif (before.name, before.channel) != (agent.name, agent.channel):
        for customer in await uow.customers.represented_by(agent.agent_id):
            republished = replace(customer, revision=customer.revision + 1)
            uow.customers.save_customer(republished)
            why = f"the representative's name or channel changed; assigned as: {customer.reason}"
            published.append(
                mapping.representative_changed(
                    customer.customer_id, agent, reason=why, revision=republished.revision, cause=cause
                )
            )
    if agent.assignable and (before is None or not before.assignable):
        vacancies = await uow.customers.vacancies_for(agent)
        published += await fill(uow, vacancies, cause=cause, why=f"{agent.name} ({agent.agent_id}) became available")
        if is_service_staff(agent):
            why = f"{agent.name} ({agent.agent_id}) became available"
            published += await account_managers.fill_vacancies(uow, cause=cause, why=why)
    return published


async def on_agent_departed(event: AgentDeparted, uow: AssignmentUnitOfWork) -> list[Publishable]:
    """Dated today or earlier (the event's insurer-local date): the departed person's customers are
    reassigned by the regular rule, the departed excluded. Dated ahead: recorded, and it acts on
    that date through the daily run (`workflows.departures`)."""
    departure = mapping.departure_of(event, zone=uow.ruleset.zone)
    return await take_departure(uow, departure, cause=mapping.cause_of_hr(event, zone=uow.ruleset.zone))


async def on_agent_disqualified(event: AgentDisqualified, uow: AssignmentUnitOfWork) -> list[Publishable]:
    """The disqualified person loses every VIP customer to the serving channel's top performers."""
    disqualification = mapping.disqualification_of(event)
    await uow.agents.lock([disqualification.agent_id])
    stored = await uow.agents.get(disqualification.agent_id)
    now = disqualified(stored, disqualification)
    if now is None:
        return []
    uow.agents.save_agent(now)
    why = f"representative {_name(stored, disqualification.agent_id)} disqualified ({disqualification.reason})"
    cause = mapping.cause_of_hr(event, zone=uow.ruleset.zone)
    customers = await _hand_over_customers(disqualification, uow, cause=cause, why=why, top_performers_first=True)
    clients = await account_managers.hand_over(
        uow, disqualification.agent_id, cause=cause, why=why, top_performers_first=True
    )
    return [*customers, *clients]


async def _hand_over_customers(
    fact: Disqualification, uow: AssignmentUnitOfWork, *, cause: Cause, why: str, top_performers_first: bool
) -> list[InternalEvent]:
    """Everyone the person represents gets someone else; the person is never chosen again."""
    return await fill(
        uow,
        await uow.customers.represented_by(fact.agent_id),
        cause=cause,
        why=why,
        excluded={fact.agent_id},
        top_performers_first=top_performers_first,
    )


async def on_customer_contacted(event: CustomerContacted, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    """Kept for later choices; one made before the current choice was taken is a late fact for it."""
    contact = mapping.contact_of(event, zone=uow.ruleset.zone)
    await uow.contacts.save_contact(contact)
    await uow.customers.lock([contact.customer_id])
    customer = await uow.customers.get(contact.customer_id)
    if customer is None or customer.decided_at is None or contact.contacted_at > customer.decided_at:
        return []
    cause = mapping.cause_of_hr(event, zone=uow.ruleset.zone)
    why = f"contact by {contact.agent_id} at {contact.contacted_at.isoformat()}, before the assignment, arrived late"
    return await revise(uow, customer, late_agent_id=contact.agent_id, cause=cause, why=why)


def _name(stored: StoredAgent | None, agent_id: str) -> str:
    return f"{stored.agent.name} ({agent_id})" if stored and stored.agent else agent_id


# --- the group program (rules.md section 9) ---------------------------------------------------------


async def on_group_level_decided(event: GroupLevelDecided, uow: AssignmentUnitOfWork) -> list[AccountManagerChanged]:
    """A stale revision is recorded and has no effect. A client becoming VIP gets an account manager;
    one staying VIP keeps theirs (no churn) or, without one, is tried again; one becoming a regular
    client loses its manager. HR events move managers through the hooks above."""
    facts, cause = mapping.level_facts_of(event), mapping.cause_of_level(event)
    await uow.group_clients.lock([facts.client_id])
    stored = await uow.group_clients.get(facts.client_id)
    if stored is not None and facts.revision <= stored.level_revision:
        uow.mark_stale()
        return []
    client = with_level(stored, facts)
    if not client.is_vip:
        why = f"no longer VIP ({facts.reason})" if stored is not None and stored.is_vip else "not VIP"
    elif stored is None or not stored.is_vip:
        why = f"became VIP ({facts.level})"
    else:
        why = f"still VIP ({facts.level}) without an account manager; tried again"
    return await account_managers.settle(uow, client, cause=cause, why=why)
