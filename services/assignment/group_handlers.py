"""Assignment's group-program handler: `GroupLevelDecided` in, `AccountManagerChanged` out.

A level decision whose `revision` is not above the last applied is stale (recorded, no effect). A
client becoming VIP gets a manager; one staying VIP keeps theirs (no churn) or, if it had none, is
tried again; one becoming a regular client loses its manager. HR events move managers through the
hooks in `handlers.py` (departure, disqualification, someone becoming available).
"""

from services.assignment import group_workflows, mapping
from services.assignment.domain.account_managers import with_level
from services.assignment.repositories import AssignmentUnitOfWork
from shared.events.group import AccountManagerChanged, GroupLevelDecided


async def on_group_level_decided(event: GroupLevelDecided, uow: AssignmentUnitOfWork) -> list[AccountManagerChanged]:
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
    return await group_workflows.settle(uow, client, cause=cause, why=why)
