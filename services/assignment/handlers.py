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
  disqualified is never chosen, so those events arriving early simply take effect at the choice.
- A VIP nobody can be found for stays unassigned (visible at `GET /v1/customers/unassigned`) and is
  filled as soon as someone who could take them becomes assignable: a new profile, or a profile
  turning eligible, of a person in their serving channel or on one of their policies; any later
  tier decision also tries again.
- A late tier decision is one whose `revision` is not above the last applied: it is ignored (and
  counted as stale, as is a profile older than the one applied).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from services.assignment.changes import Cause, apply_choice, fill, representative_changed, revise
from services.assignment.domain import policy_shares
from services.assignment.reassignment import TierStep, step_for_tier
from services.assignment.repository import AssignmentUnitOfWork
from shared.events.inbound import AgentDeparted, AgentDisqualified, AgentUpserted, CustomerContacted
from shared.events.internal import InternalEvent, TierDecided


async def on_tier_decided(event: TierDecided, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    stored = await uow.customers.get(event.customer_id, for_update=True)
    if stored is not None and event.revision <= stored.tier_revision:
        uow.mark_stale()
        return []
    customer = await uow.customers.save_tier(
        event.customer_id,
        tier_revision=event.revision,
        tier=event.tier,
        serving_channel=event.serving_channel,
        policies=policy_shares(event.policies, standard=event.standard),
    )
    cause = Cause.of_tier(event)
    step = step_for_tier(is_vip=customer.is_vip, represented=customer.representative is not None)
    if step is TierStep.END:
        return await apply_choice(
            uow,
            customer,
            None,
            agents={},
            cause=cause,
            why=f"no longer VIP ({event.reason})",
            decided_at=event.occurred_at,
        )
    if step is TierStep.FILL:
        was_vip = stored is not None and stored.is_vip
        why = "still VIP without a representative; tried again" if was_vip else f"became VIP ({event.tier})"
        return await fill(uow, [customer], cause=cause, why=why)
    return []


async def on_agent_upserted(event: AgentUpserted, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    """A profile older than the one applied is stale. A first profile is a late fact for customers
    whose choice it could have changed; a person who becomes assignable fills open vacancies."""
    profile = event.agent
    stored = await uow.agents.get(profile.agent_id, for_update=True)
    before = stored.agent if stored else None
    if stored is not None and stored.profile_at is not None and event.occurred_at < stored.profile_at:
        uow.mark_stale()
        return []
    await uow.agents.save_profile(profile, at=event.occurred_at)
    now = await uow.agents.get(profile.agent_id)
    assert now is not None and now.agent is not None
    agent = now.agent
    cause = Cause.of_inbound(
        event_id=event.event_id, event_type=event.event_type, occurred_at=event.occurred_at, zone=_zone(uow)
    )
    published: list[InternalEvent] = []
    if before is None:
        why = f"profile of {agent.name} ({agent.agent_id}) arrived after the assignment"
        for customer in await uow.customers.revisable_by(agent.agent_id):
            published += await revise(uow, customer, late_agent_id=agent.agent_id, cause=cause, why=why)
    elif (before.name, before.channel) != (agent.name, agent.channel):
        for customer in await uow.customers.represented_by(agent.agent_id):
            revision = await uow.customers.bump_revision(customer.customer_id)
            why = f"the representative's name or channel changed; assigned as: {customer.reason}"
            published.append(
                representative_changed(customer.customer_id, agent, reason=why, revision=revision, cause=cause)
            )
    if agent.assignable and (before is None or not before.assignable):
        vacancies = await uow.customers.vacancies_for(agent)
        published += await fill(uow, vacancies, cause=cause, why=f"{agent.name} ({agent.agent_id}) became available")
    return published


async def on_agent_departed(event: AgentDeparted, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    """The departed person's customers are reassigned by the regular rule, the departed excluded."""
    if not await uow.agents.mark_departed(event.agent_id, departed_on=event.departed_on, at=event.occurred_at):
        return []
    why = f"representative {await _name(uow, event.agent_id)} left the company on {event.departed_on}"
    return await _hand_over_customers(event, uow, why=why, top_performers_first=False)


async def on_agent_disqualified(event: AgentDisqualified, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    """The disqualified person loses every VIP customer to the serving channel's top performers."""
    if not await uow.agents.mark_disqualified(event.agent_id, reason=event.reason, at=event.occurred_at):
        return []
    why = f"representative {await _name(uow, event.agent_id)} disqualified ({event.reason})"
    return await _hand_over_customers(event, uow, why=why, top_performers_first=True)


async def _hand_over_customers(
    event: AgentDeparted | AgentDisqualified, uow: AssignmentUnitOfWork, *, why: str, top_performers_first: bool
) -> list[InternalEvent]:
    """Everyone the person represents gets someone else; the person is never chosen again."""
    cause = Cause.of_inbound(
        event_id=event.event_id, event_type=event.event_type, occurred_at=event.occurred_at, zone=_zone(uow)
    )
    return await fill(
        uow,
        await uow.customers.represented_by(event.agent_id),
        cause=cause,
        why=why,
        excluded={event.agent_id},
        top_performers_first=top_performers_first,
    )


async def on_customer_contacted(event: CustomerContacted, uow: AssignmentUnitOfWork) -> list[InternalEvent]:
    """Kept for later choices; one made before the current choice was taken is a late fact for it.
    A `contacted_at` without an offset is read in the insurer's time zone."""
    contacted_at = _aware(event.contacted_at, _zone(uow))
    await uow.contacts.record(customer_id=event.customer_id, agent_id=event.agent_id, contacted_at=contacted_at)
    customer = await uow.customers.get(event.customer_id, for_update=True)
    if customer is None or customer.decided_at is None or contacted_at > customer.decided_at:
        return []
    cause = Cause.of_inbound(
        event_id=event.event_id, event_type=event.event_type, occurred_at=event.occurred_at, zone=_zone(uow)
    )
    why = f"contact by {event.agent_id} at {contacted_at.isoformat()}, before the assignment, arrived late"
    return await revise(uow, customer, late_agent_id=event.agent_id, cause=cause, why=why)


def _zone(uow: AssignmentUnitOfWork) -> ZoneInfo:
    return uow.ruleset.zone


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


async def _name(uow: AssignmentUnitOfWork, agent_id: str) -> str:
    stored = await uow.agents.get(agent_id)
    return f"{stored.agent.name} ({agent_id})" if stored and stored.agent else agent_id
