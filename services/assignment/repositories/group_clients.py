"""Group clients with their account service manager, and the group channel's staff to choose from.

A person's group load (clients managed now) is counted from `group_clients`, not kept on `agents`:
the individual program's `agents.load` stays the count of VIP customers represented. The staff and
their loads are read once per transaction (`staff()`, one statement) and moved in memory as the
batch assigns (`move`), so a batch of level decisions costs one read of the staff, not one per event.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.account_managers import GroupClient, Manager
from services.assignment.domain.assignment import Agent
from services.assignment.repositories.agents import stored_agent_of
from services.assignment.tables import ASSIGNABLE, agents, group_clients
from shared.events.values import Channel
from shared.identity_map import IdentityMap


def client_of(row: Mapping[Any, Any]) -> GroupClient:
    manager = None
    if row["manager_id"] is not None:
        manager = Manager(agent_id=row["manager_id"], name=row["manager_name"], branch=row["manager_branch"])
    return GroupClient(
        client_id=row["client_id"], level_revision=row["level_revision"], level=row["level"], branch=row["branch"],
        manager=manager, since=row["since"], reason=row["reason"], unassigned_since=row["unassigned_since"],
        revision=row["revision"],
    )


def row_of_client(client: GroupClient) -> dict[str, Any]:
    manager = client.manager
    return {
        "client_id": client.client_id, "level_revision": client.level_revision, "level": client.level,
        "branch": client.branch, "manager_id": manager.agent_id if manager else None,
        "manager_name": manager.name if manager else None, "manager_branch": manager.branch if manager else None,
        "since": client.since, "reason": client.reason, "unassigned_since": client.unassigned_since,
        "revision": client.revision,
    }


class GroupClientRepository:
    """Group clients on an identity map for the transaction (advisory locks, scope "assignment-group-client")."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[GroupClient](
            connection, table=group_clients, key="client_id", lock_scope="assignment-group-client",
            value_of=client_of, row_of=row_of_client,
        )
        self._staff: tuple[dict[str, Agent], dict[str, int]] | None = None

    async def lock(self, client_ids: Iterable[str]) -> None:
        await self._map.lock(client_ids)

    async def get(self, client_id: str) -> GroupClient | None:
        return await self._map.get(client_id)

    def save_client(self, client: GroupClient) -> None:
        self._map.save(client.client_id, client)

    async def flush(self) -> None:
        await self._map.flush()

    async def managed_by(self, agent_id: str) -> list[GroupClient]:
        """The clients the person manages now, locked and loaded in two statements."""
        await self._map.flush()
        statement = select(group_clients.c.client_id).where(group_clients.c.manager_id == agent_id)
        ids = sorted((await self._connection.execute(statement)).scalars())
        await self._map.lock(ids)
        return [client for client_id in ids if (client := await self._map.get(client_id)) is not None]

    async def vacancies(self, *, limit: int = 1000) -> list[GroupClient]:
        """VIP clients nobody could be found for, oldest first."""
        await self._map.flush()
        statement = (
            select(group_clients.c.client_id)
            .where(group_clients.c.level.is_not(None), group_clients.c.manager_id.is_(None))
            .order_by(group_clients.c.client_id).limit(limit)
        )
        ids = list((await self._connection.execute(statement)).scalars())
        await self._map.lock(ids)
        return [client for client_id in ids if (client := await self._map.get(client_id)) is not None]

    async def staff(self) -> tuple[dict[str, Agent], dict[str, int]]:
        """The group channel's assignable persons and their group loads, read once per transaction."""
        if self._staff is None:
            await self._map.flush()
            managed = (
                select(group_clients.c.manager_id, func.count().label("managed"))
                .where(group_clients.c.manager_id.is_not(None)).group_by(group_clients.c.manager_id).subquery()
            )
            statement = (
                select(agents, func.coalesce(managed.c.managed, 0).label("managed"))
                .outerjoin(managed, managed.c.manager_id == agents.c.agent_id)
                .where(ASSIGNABLE, agents.c.channel == Channel.GROUP.value)
            )
            rows = (await self._connection.execute(statement)).all()
            people = {row.agent_id: stored_agent_of(row._mapping).agent for row in rows}
            self._staff = (
                {agent_id: agent for agent_id, agent in people.items() if agent is not None},
                {row.agent_id: row.managed for row in rows},
            )
        return self._staff

    def move(self, *, before: str | None, after: str | None) -> None:
        """Keep the transaction's loads current after a change of manager."""
        if self._staff is None:
            return
        loads = self._staff[1]
        if before is not None and before in loads:
            loads[before] -= 1
        if after is not None:
            loads[after] = loads.get(after, 0) + 1

    def forget_staff(self) -> None:
        """A profile, departure or disqualification changed who may be chosen: read the staff again."""
        self._staff = None

    async def page(self, *, limit: int, offset: int, unassigned_only: bool) -> list[GroupClient]:
        statement = select(group_clients).order_by(group_clients.c.client_id).limit(limit).offset(offset)
        if unassigned_only:
            statement = statement.where(group_clients.c.level.is_not(None), group_clients.c.manager_id.is_(None))
        return [client_of(row._mapping) for row in (await self._connection.execute(statement)).all()]
