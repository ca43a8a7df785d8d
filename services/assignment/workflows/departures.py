"""A service person's departure (rules.md section 7): dated today or earlier it acts on receipt;
announced ahead (`departed_on` after the event's insurer-local date) it is recorded and acts on that
date, through the daily run (`hand_over_departures`).

Until their departure date the person is active: they keep their customers and may be assigned
new ones, as HR's record says they still work here. On the date, their customers are reassigned by
the regular rule among the remaining policies, then the pool, and they are never chosen again.
"""

from datetime import datetime, time

from services.assignment.domain.facts import Cause, Departure
from services.assignment.domain.records import StoredAgent, departed, departure_announced
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.workflows import account_managers
from services.assignment.workflows.representatives import fill
from shared.daily_run import ChunkDone, DailyRun
from shared.db import Publishable
from shared.events.ids import derive_event_id

DAILY_RUN_CAUSE = "daily_run"


async def take_departure(uow: AssignmentUnitOfWork, departure: Departure, *, cause: Cause) -> list[Publishable]:
    """Acts now if the departure is dated today or earlier, else records it for its date's daily run."""
    await uow.agents.lock([departure.agent_id])
    stored = await uow.agents.get(departure.agent_id)
    if not departure.acts_now:
        announced = departure_announced(stored, departure)
        if announced is not None:
            uow.agents.save_agent(announced)
        return []
    return await _depart(uow, stored, departure, cause=cause)


async def _depart(
    uow: AssignmentUnitOfWork, stored: StoredAgent | None, departure: Departure, *, cause: Cause
) -> list[Publishable]:
    """The caller holds the person's lock. A departure acts once."""
    now = departed(stored, departure)
    if now is None:
        return []
    uow.agents.save_agent(now)
    name = f"{stored.agent.name} ({departure.agent_id})" if stored and stored.agent else departure.agent_id
    why = f"representative {name} left the company on {departure.departed_on}"
    customers = await fill(
        uow,
        await uow.customers.represented_by(departure.agent_id),
        cause=cause,
        why=why,
        excluded={departure.agent_id},
        top_performers_first=False,
    )
    clients = await account_managers.hand_over(
        uow, departure.agent_id, cause=cause, why=why, top_performers_first=False
    )
    return [*customers, *clients]


async def hand_over_departures(uow: AssignmentUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """A daily-run chunk: persons whose departure announced ahead falls due by `run.as_of`, in
    agent-id order after `after`, locked and read again (one whose departure acted meanwhile, or
    was moved to a later date, is skipped). Each departure acts as of the start of its own date in
    the insurer's zone, so the same departure gives the same result whenever the run happens."""
    due = await uow.agents.departing(as_of=run.as_of, after=after, limit=limit)
    await uow.agents.lock(due)
    await uow.customers.load_around(due, channels=())
    changed = 0
    for agent_id in due:
        stored = await uow.agents.get(agent_id)
        if stored is None or stored.departs_on is None or stored.departs_on > run.as_of:
            continue
        moment = datetime.combine(stored.departs_on, time.min, tzinfo=uow.ruleset.zone)
        departure = Departure(agent_id=agent_id, departed_on=stored.departs_on, at=moment, announced_on=run.as_of)
        cause = Cause(
            event_id=derive_event_id(DAILY_RUN_CAUSE, "departure", agent_id, stored.departs_on.isoformat()),
            event_type=DAILY_RUN_CAUSE,
            correlation_id=derive_event_id(DAILY_RUN_CAUSE, run.as_of.isoformat()),
            occurred_at=moment,
            effective_at=stored.departs_on,
        )
        uow.publish(await _depart(uow, stored, departure, cause=cause))
        changed += 1
    return ChunkDone(looked_at=len(due), changed=changed, last_key=due[-1] if due else "")
