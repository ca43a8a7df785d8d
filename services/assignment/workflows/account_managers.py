"""Carrying out account-manager choices for group clients (rules.md section 9, 服务组织): the one
place a client's manager is ever changed. The handlers decide *when*, `domain.account_managers`
decides *who*.

(Assignment's individual-program workflows are in the other `workflows` modules; the group program's live here, a
module of their own, so the two programs never share a code path by accident.)
"""

from dataclasses import replace
from datetime import date

from services.assignment.domain.account_managers import GroupClient, Manager, choose_account_manager, reason_for
from services.assignment.domain.facts import Cause
from services.assignment.mapping import account_manager_changed
from services.assignment.repositories import AssignmentUnitOfWork
from shared.events.group import AccountManagerChanged


async def settle(
    uow: AssignmentUnitOfWork,
    client: GroupClient,
    *,
    cause: Cause,
    why: str,
    excluded: frozenset[str] = frozenset(),
    top_performers_first: bool = False,
) -> list[AccountManagerChanged]:
    """Bring the client's manager in line with its level: none for a regular client; the current one
    kept while VIP (unless `excluded`); otherwise a new choice. Publishes only on a change."""
    keep = client.manager is not None and client.manager.agent_id not in excluded
    if client.is_vip and keep:
        uow.group_clients.save_client(client)
        return []
    manager: Manager | None = None
    reason = why
    if client.is_vip:
        staff, loads = await uow.group_clients.staff()
        chosen = choose_account_manager(
            branch=client.branch, staff=staff.values(), loads=loads, excluded=excluded,
            top_performers_first=top_performers_first,
        )
        if chosen is not None:
            manager = Manager(agent_id=chosen.agent_id, name=chosen.name, branch=chosen.branch)
            from_top = top_performers_first and chosen.top_performer
            reason = f"{why}: {reason_for(chosen, branch=client.branch, loads=loads, top_performer=from_top)}"
        else:
            reason = f"{why}: nobody in the group channel's service staff is available"
    return _record(uow, client, manager=manager, reason=reason, cause=cause, on=cause.effective_at)


def _record(
    uow: AssignmentUnitOfWork, client: GroupClient, *, manager: Manager | None, reason: str, cause: Cause, on: date
) -> list[AccountManagerChanged]:
    before = client.manager.agent_id if client.manager else None
    after = manager.agent_id if manager else None
    unassigned_since = (client.unassigned_since or on) if client.is_vip and manager is None else None
    if before == after:
        kept = client.reason if after is not None else reason
        uow.group_clients.save_client(replace(client, unassigned_since=unassigned_since, reason=kept))
        return []
    uow.group_clients.move(before=before, after=after)
    now = replace(
        client, manager=manager, since=on, reason=reason, unassigned_since=unassigned_since,
        revision=client.revision + 1,
    )
    uow.group_clients.save_client(now)
    return [account_manager_changed(now, cause=cause)]


async def hand_over(
    uow: AssignmentUnitOfWork, agent_id: str, *, cause: Cause, why: str, top_performers_first: bool
) -> list[AccountManagerChanged]:
    """Every client the person manages gets someone else; the person is never chosen again."""
    await uow.agents.flush()
    uow.group_clients.forget_staff()
    published: list[AccountManagerChanged] = []
    for client in await uow.group_clients.managed_by(agent_id):
        published += await settle(
            uow, client, cause=cause, why=why, excluded=frozenset({agent_id}),
            top_performers_first=top_performers_first,
        )
    return published


async def fill_vacancies(uow: AssignmentUnitOfWork, *, cause: Cause, why: str) -> list[AccountManagerChanged]:
    """VIP clients left without a manager, tried again now that someone became available."""
    await uow.agents.flush()
    uow.group_clients.forget_staff()
    published: list[AccountManagerChanged] = []
    for client in await uow.group_clients.vacancies():
        published += await settle(uow, client, cause=cause, why=why)
    return published
